/**
 * The definition file as the live source of truth: on each settled change (watcher, SIGHUP),
 * load and validate; an invalid file is logged as one line with every issue, recorded for
 * GET /v1/status, and the last valid configuration keeps serving (apply is never called); a
 * valid one that changes something is handed to apply. Reloads run one at a time; changes
 * during one are coalesced into a single next reload.
 */
import { DefinitionError, type DefinitionIssue, type DefinitionLoad, type FunctionDefinition, type Logger, formatIssue } from '@faas/contracts';
import { planApply, summarizeChanges } from './apply-plan';

export interface ReloadDeps {
  file: string;
  /** Reads and validates the file (loadDefinitionFile); throws DefinitionError. */
  load: (file: string) => FunctionDefinition[];
  /** The orchestrator's apply: resolves when every change was applied or failed. */
  apply: (defs: FunctionDefinition[]) => Promise<void>;
  log: Logger;
  now: () => number;
  /** Told the definitions now serving after each apply (the watcher follows their folders). */
  onApplied?: (defs: FunctionDefinition[]) => void;
}

export interface ReloadTrigger {
  reason: string;
  /** Paths that changed (watcher), for the log. */
  paths?: string[];
  /** Apply even when nothing changed (SIGHUP: retry what failed). */
  force?: boolean;
}

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected';

export interface ReloadStatus {
  file: string;
  lastApplied: DefinitionLoad | null;
  lastLoad: DefinitionLoad | null;
}

export class DefinitionReloader {
  private serving: FunctionDefinition[];
  private lastApplied: DefinitionLoad | null;
  private lastLoad: DefinitionLoad | null;
  private running: Promise<void> | undefined;
  private pending: ReloadTrigger | undefined;
  private lastOutcome: ReloadOutcome | undefined;

  /** `initial`: what the orchestrator started with, applied at `appliedAt`. */
  constructor(private readonly deps: ReloadDeps, initial: FunctionDefinition[], appliedAt: number) {
    this.serving = initial;
    this.lastApplied = { at: appliedAt, ok: true };
    this.lastLoad = this.lastApplied;
  }

  status(): ReloadStatus {
    return { file: this.deps.file, lastApplied: this.lastApplied, lastLoad: this.lastLoad };
  }

  /** The last valid definitions handed to apply (or started with). */
  definitions(): FunctionDefinition[] {
    return this.serving;
  }

  /**
   * Ask for a reload. While one runs, triggers merge into one more reload after it (a force
   * stays a force). Resolves with the outcome of the reload that covered this trigger.
   */
  request(t: ReloadTrigger): Promise<ReloadOutcome> {
    this.pending = this.pending
      ? { reason: `${this.pending.reason}+${t.reason}`, paths: [...new Set([...(this.pending.paths ?? []), ...(t.paths ?? [])])], force: Boolean(this.pending.force || t.force) }
      : t;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running.then(() => this.lastOutcome as ReloadOutcome);
  }

  private async drain(): Promise<void> {
    for (let t = this.pending; t; t = this.pending) {
      this.pending = undefined;
      this.lastOutcome = await this.once(t);
    }
  }

  private async once(t: ReloadTrigger): Promise<ReloadOutcome> {
    const { log } = this.deps;
    const at = this.deps.now();
    let next: FunctionDefinition[];
    try {
      next = this.deps.load(this.deps.file);
    } catch (err) {
      const issues: DefinitionIssue[] = err instanceof DefinitionError ? err.issues : [{ file: this.deps.file, message: `cannot load: ${(err as Error).message}` }];
      this.lastLoad = { at, ok: false, issues };
      // One line, every issue; what serves is untouched.
      log.error('definitions_rejected', {
        file: this.deps.file, reason: t.reason, message: issues.map(formatIssue).join('; '), issues, serving: this.serving.map((d) => `${d.name}@${d.version}`),
      });
      return 'rejected';
    }
    const changes = planApply(this.serving, next);
    this.lastLoad = { at, ok: true };
    if (changes.length === 0 && !t.force) {
      log.info('definitions_unchanged', { file: this.deps.file, reason: t.reason });
      return 'unchanged';
    }
    log.info('definitions_changed', { file: this.deps.file, reason: t.reason, ...(t.paths ? { paths: t.paths.slice(0, 20) } : {}), ...summarizeChanges(changes) });
    this.serving = next;
    // apply logs and records per-function failures itself; it rejects only on a bug.
    try {
      await this.deps.apply(next);
    } catch (err) {
      log.error('definitions_apply_failed', { file: this.deps.file, error: err });
    }
    this.lastApplied = { at, ok: true };
    this.deps.onApplied?.(next);
    return 'applied';
  }
}
