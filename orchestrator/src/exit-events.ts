/**
 * Docker's `oom` and `die` events of one stack turned into exits with their cause. The kernel's
 * OOM kill is reported as `oom` before `die` (which carries only exitCode): remembering it gives
 * the cause at `die` without an inspect (which waits for dockerd's teardown of the container).
 * Pure apart from the small memory of containers that had an `oom`.
 */
import type { ExitInfo } from './docker-driver';

export type ExitEvent =
  | { kind: 'exit'; containerId: string; exit: ExitInfo | undefined }
  | { kind: 'oom'; containerId: string }
  | { kind: 'invalid'; reason: string };

/** Containers whose `oom` came without a `die` (a process other than the main one was killed) are forgotten past this. */
const MAX_REMEMBERED = 1000;

export class ExitEvents {
  private readonly oomSeen = new Set<string>();

  /** One line of the event stream. An event without `Action` counts as `die` (older engines). */
  read(line: string): ExitEvent {
    let ev: { id?: unknown; Action?: unknown; Actor?: { ID?: unknown; Attributes?: Record<string, unknown> } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return { kind: 'invalid', reason: 'not JSON' };
    }
    const id = typeof ev.id === 'string' ? ev.id : typeof ev.Actor?.ID === 'string' ? ev.Actor.ID : undefined;
    if (!id) return { kind: 'invalid', reason: 'no container id' };
    if (ev.Action === 'oom') {
      if (this.oomSeen.size >= MAX_REMEMBERED) this.oomSeen.delete(this.oomSeen.values().next().value as string);
      this.oomSeen.add(id);
      return { kind: 'oom', containerId: id };
    }
    const code = Number(ev.Actor?.Attributes?.exitCode);
    const oomKilled = this.oomSeen.delete(id);
    return { kind: 'exit', containerId: id, exit: Number.isInteger(code) ? { exitCode: code, oomKilled } : undefined };
  }
}
