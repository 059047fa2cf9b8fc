/**
 * The reload path around a running orchestrator: the status endpoint (up from the start, so a
 * long first build can be watched), the watcher on the definition file, its code folders and
 * secrets, and the reloader that hands valid edits to OrchestratorHandle.apply. main.ts calls
 * `reload` for SIGHUP too, so file changes and signals take the same path.
 */
import { FaasError, type FunctionDefinition, type FunctionStatus, type Logger, loadDefinitionFile } from '@faas/contracts';
import { DefinitionReloader, type ReloadOutcome, type ReloadStatus, type ReloadTrigger } from './definition-reload';
import { DefinitionWatcher } from './definition-watch';
import type { OrchestratorHandle } from './orchestrator';
import { type StatusServer, startStatusServer } from './status-server';

export interface LiveDefinitionsOptions {
  file: string;
  /** The definitions the orchestrator starts with (already validated). */
  initial: FunctionDefinition[];
  statusHost: string;
  statusPort: number;
  watchDebounceMs: number;
  watchPollMs: number;
  internalToken: string;
  log: Logger;
  load?: (file: string) => FunctionDefinition[];
  now?: () => number;
}

export class LiveDefinitions {
  private handle: Pick<OrchestratorHandle, 'apply' | 'functionStatus'> | undefined;
  private reloader: DefinitionReloader | undefined;
  private watcher: DefinitionWatcher | undefined;
  private readonly startedAt: number;

  private constructor(private readonly opts: LiveDefinitionsOptions, private readonly server: StatusServer) {
    this.startedAt = (opts.now ?? Date.now)();
  }

  /** Start the status endpoint; `attach` once the orchestrator is up. */
  static async listen(opts: LiveDefinitionsOptions): Promise<LiveDefinitions> {
    let live: LiveDefinitions | undefined;
    const source = {
      reload: (): ReloadStatus => live?.reloadStatus() ?? { file: opts.file, lastApplied: null, lastLoad: null },
      functions: (): FunctionStatus[] => live?.handle?.functionStatus() ?? [],
    };
    let server: StatusServer;
    try {
      server = await startStatusServer({ host: opts.statusHost, port: opts.statusPort, source, log: opts.log, internalToken: opts.internalToken });
    } catch (err) {
      throw new FaasError('invalid_env', `cannot listen on ${opts.statusHost}:${opts.statusPort} for GET /v1/status (FAAS_STATUS_HOST, FAAS_STATUS_PORT): ${(err as Error).message}`, { host: opts.statusHost, port: opts.statusPort }, { cause: err });
    }
    live = new LiveDefinitions(opts, server);
    return live;
  }

  get statusPort(): number {
    return this.server.port;
  }

  private reloadStatus(): ReloadStatus {
    // Before attach, the start-up load is the one being applied.
    return this.reloader?.status() ?? { file: this.opts.file, lastApplied: null, lastLoad: { at: this.startedAt, ok: true } };
  }

  /** The orchestrator is up with `initial`: from now on edits are applied to it. */
  async attach(handle: Pick<OrchestratorHandle, 'apply' | 'functionStatus'>): Promise<void> {
    const { opts } = this;
    this.handle = handle;
    const reloader = new DefinitionReloader({
      file: opts.file, load: opts.load ?? loadDefinitionFile, apply: (defs) => handle.apply(defs), log: opts.log, now: opts.now ?? Date.now,
      onApplied: (defs) => this.watcher?.follow(defs),
    }, opts.initial, this.startedAt);
    this.reloader = reloader;
    this.watcher = await DefinitionWatcher.start({
      file: opts.file, debounceMs: opts.watchDebounceMs, pollMs: opts.watchPollMs, log: opts.log,
      onChange: (paths) => void this.reload({ reason: 'file_changed', paths }),
    }, opts.initial);
    opts.log.info('definitions_watching', { file: opts.file, pollMs: opts.watchPollMs, debounceMs: opts.watchDebounceMs });
  }

  /** Reload now (SIGHUP, watcher); logged and recorded, never throws. */
  async reload(t: ReloadTrigger): Promise<ReloadOutcome | undefined> {
    if (!this.reloader) {
      this.opts.log.warn('definitions_reload_ignored', { reason: t.reason, why: 'orchestrator still starting' });
      return undefined;
    }
    return this.reloader.request(t).catch((err: unknown) => {
      this.opts.log.error('definitions_reload_failed', { reason: t.reason, error: err });
      return undefined;
    });
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    await this.server.close();
  }
}
