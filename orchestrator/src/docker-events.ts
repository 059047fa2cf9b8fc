/**
 * Follows one stack's container `die` (and `oom`) events on dockerd's event stream, and keeps
 * following it: the stream ends when dockerd restarts (or the socket breaks), and is then
 * subscribed again with backoff (250 ms doubling to 30 s); onResubscribed runs after each
 * new subscription so the caller can look for exits it missed in the gap.
 * The stream is input from outside: every line is validated (exit-events.ts), and a malformed
 * one, an oversized one or a throwing handler is logged, never fatal to the watch.
 */
import type Docker from 'dockerode';
import { LABELS, type Logger } from '@faas/contracts';
import { type ExitInfo, ExitEvents } from './exit-events';

export type OnExit = (containerId: string, exit: ExitInfo | undefined) => void;

type EventStream = NodeJS.ReadableStream & { destroy?: () => void };

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** A stream that lived this long was healthy: the next loss starts the backoff from the bottom. */
const HEALTHY_STREAM_MS = 10_000;
/** A Docker event is well under 4 KiB; a line past this is dropped rather than buffered forever. */
const MAX_LINE_BYTES = 1024 * 1024;

/** Returns a stop function (no subscription after it; the current stream is destroyed). */
export async function watchExitEvents(docker: Docker, stack: string, log: Logger, onExit: OnExit, onResubscribed?: () => void): Promise<() => void> {
  const events = new ExitEvents();
  let stopped = false;
  let current: EventStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;

  const handleLine = (line: string): void => {
    const ev = events.read(line);
    if (ev.kind === 'invalid') {
      log.warn('docker_event_invalid', { reason: ev.reason, line: line.slice(0, 200) });
      return;
    }
    if (ev.kind !== 'exit') return;
    try {
      onExit(ev.containerId, ev.exit);
    } catch (err) {
      // The handler's bug must not end the watch (a thrown error here would escape the stream's 'data' listener).
      log.error('docker_exit_handler_failed', { containerId: ev.containerId, error: err });
    }
  };

  const subscribe = async (): Promise<void> => {
    const stream = (await docker.getEvents({
      filters: { type: ['container'], event: ['die', 'oom'], label: [`${LABELS.stack}=${stack}`] },
    })) as EventStream;
    if (stopped) {
      stream.destroy?.();
      return;
    }
    current = stream;
    const since = Date.now();
    let buf = '';
    stream.on('data', (chunk: Buffer | string) => {
      buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) handleLine(line);
      }
      if (buf.length > MAX_LINE_BYTES) {
        log.warn('docker_event_invalid', { reason: `line over ${MAX_LINE_BYTES} bytes dropped`, line: buf.slice(0, 200) });
        buf = '';
      }
    });
    let gone = false;
    const lost = (reason: string) => {
      if (gone) return;
      gone = true;
      if (current === stream) current = undefined;
      if (stopped) return;
      if (Date.now() - since > HEALTHY_STREAM_MS) attempt = 0;
      log.warn('docker_events_lost', { reason });
      schedule();
    };
    stream.on('error', (err: Error) => lost(err.message));
    stream.on('end', () => lost('stream ended'));
    stream.on('close', () => lost('stream closed'));
  };

  const schedule = () => {
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    attempt += 1;
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      subscribe().then(
        () => {
          if (stopped) return;
          log.info('docker_events_resubscribed', { attempt });
          onResubscribed?.();
        },
        (err: Error) => {
          log.warn('docker_events_subscribe_failed', { error: err.message, attempt });
          if (!stopped) schedule();
        },
      );
    }, delayMs);
  };

  await subscribe();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    current?.destroy?.();
  };
}
