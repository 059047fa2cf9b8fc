/**
 * Docker's `oom` and `die` events of one stack turned into exits with their cause. The kernel's
 * OOM kill is reported as `oom` before `die` (which carries only exitCode): remembering it gives
 * the cause at `die` without an inspect (which waits for dockerd's teardown of the container).
 * Each line is input from outside (dockerd): it is validated, and a malformed one is reported
 * as `invalid` (never thrown). Pure apart from the small memory of containers that had an `oom`.
 */
import { z } from 'zod';

export interface ExitInfo {
  exitCode: number;
  /** The kernel killed it for memory (State.OOMKilled). */
  oomKilled: boolean;
}

export type ExitEvent =
  | { kind: 'exit'; containerId: string; exit: ExitInfo | undefined }
  | { kind: 'oom'; containerId: string }
  | { kind: 'invalid'; reason: string };

/** The fields of a Docker container event this module reads (others pass unchecked). */
const dockerEventSchema = z.object({
  id: z.string().min(1).optional(),
  /** Absent on older engines (then only `status`): counts as `die`, the subscription's filter. */
  Action: z.enum(['die', 'oom']).optional(),
  Actor: z.object({
    ID: z.string().min(1).optional(),
    /**
     * Docker sends every attribute as a string; exitCode only on `die`. One that is not a
     * non-negative integer leaves the cause unknown: the container still died.
     */
    Attributes: z.object({ exitCode: z.string().optional() }).passthrough().optional(),
  }).passthrough().optional(),
}).passthrough();

/** Containers whose `oom` came without a `die` (a process other than the main one was killed) are forgotten past this. */
const MAX_REMEMBERED = 1000;

export class ExitEvents {
  private readonly oomSeen = new Set<string>();

  /** One line of the event stream. */
  read(line: string): ExitEvent {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { kind: 'invalid', reason: 'not JSON' };
    }
    const parsed = dockerEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { kind: 'invalid', reason: `malformed event: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}` };
    }
    const ev = parsed.data;
    const id = ev.id ?? ev.Actor?.ID;
    if (id === undefined) return { kind: 'invalid', reason: 'no container id' };
    if (ev.Action === 'oom') {
      if (this.oomSeen.size >= MAX_REMEMBERED) this.oomSeen.delete(this.oomSeen.values().next().value as string);
      this.oomSeen.add(id);
      return { kind: 'oom', containerId: id };
    }
    const code = ev.Actor?.Attributes?.exitCode;
    const oomKilled = this.oomSeen.delete(id);
    return { kind: 'exit', containerId: id, exit: code !== undefined && /^\d+$/.test(code) ? { exitCode: Number(code), oomKilled } : undefined };
  }
}
