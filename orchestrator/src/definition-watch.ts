/**
 * Watches what a definition load reads: the definition file, every function's code folder and
 * its secret files. The file is watched through its directory, not its inode: editors save by
 * writing a new file and renaming it over the old one, which an inode watch would lose. chokidar
 * (instead of raw fs.watch) re-arms after renames and offers polling (`pollMs`) where OS events
 * do not arrive (Docker Desktop bind mounts, network filesystems). Bursts are coalesced
 * (debounce.ts); `onChange` gets the paths of one settled burst.
 */
import * as path from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { FunctionDefinition, Logger } from '@faas/contracts';
import { Debouncer } from './debounce';

export interface DefinitionWatchOptions {
  file: string;
  /** Quiet time after the last event before a reload. */
  debounceMs: number;
  /** Polling interval in ms; 0 uses the OS's file events (inotify). */
  pollMs: number;
  onChange: (paths: string[]) => void;
  log: Logger;
}

/** Never in an image (build-context.ts), so never a reason to reload. */
const IGNORED_DIRS = new Set(['node_modules', '.git', '__pycache__']);

/** The code folders and secret files of these definitions: what the second watcher follows. */
export function inputsOf(defs: readonly FunctionDefinition[]): string[] {
  return [...new Set(defs.flatMap((d) => [d.codeDir, ...Object.values(d.secrets)]))].sort();
}

export class DefinitionWatcher {
  private readonly debouncer: Debouncer<string>;
  private inputs = new Set<string>();

  private constructor(
    private readonly fileWatcher: FSWatcher,
    private readonly inputWatcher: FSWatcher,
    opts: DefinitionWatchOptions,
  ) {
    // Slow saves: at most ten quiet periods before a reload happens anyway.
    this.debouncer = new Debouncer(opts.debounceMs, opts.debounceMs * 10, opts.onChange);
    const seen = (_event: string, p: string) => this.debouncer.push(p);
    fileWatcher.on('all', seen);
    inputWatcher.on('all', seen);
    const failed = (err: unknown) => opts.log.warn('definition_watch_error', {
      file: opts.file, error: err,
      // Out of inotify watches (many or large code folders): polling needs none.
      ...((err as NodeJS.ErrnoException).code === 'ENOSPC' ? { hint: 'raise fs.inotify.max_user_watches or set FAAS_WATCH_POLL_MS=1000' } : {}),
    });
    fileWatcher.on('error', failed);
    inputWatcher.on('error', failed);
  }

  /** Resolves once both watchers have scanned what they watch (events after that are changes). */
  static async start(opts: DefinitionWatchOptions, defs: readonly FunctionDefinition[]): Promise<DefinitionWatcher> {
    const file = path.resolve(opts.file);
    const dir = path.dirname(file);
    const polling = { usePolling: opts.pollMs > 0, interval: opts.pollMs || 100, binaryInterval: opts.pollMs || 300 };
    // The directory, one level: only the file itself counts (editor temp files do not).
    const fileWatcher = watch(dir, { ...polling, ignoreInitial: true, depth: 0, ignored: (p: string) => p !== dir && p !== file });
    // Ignoring the folder itself keeps chokidar from descending into it.
    const initial = inputsOf(defs);
    const inputWatcher = watch(initial, { ...polling, ignoreInitial: true, ignored: (p: string) => IGNORED_DIRS.has(path.basename(p)) });
    const w = new DefinitionWatcher(fileWatcher, inputWatcher, opts);
    w.inputs = new Set(initial);
    const ready = (x: FSWatcher) => new Promise<void>((resolve) => x.once('ready', () => resolve()));
    await Promise.all([ready(fileWatcher), ...(initial.length > 0 ? [ready(inputWatcher)] : [])]);
    return w;
  }

  /**
   * Follow the code folders and secrets of the definitions now serving. Not awaited: chokidar
   * says 'ready' once per watcher, and a folder added later needs no first event to be right
   * (the load that added it already read it).
   */
  follow(defs: readonly FunctionDefinition[]): void {
    const next = new Set(inputsOf(defs));
    const gone = [...this.inputs].filter((p) => !next.has(p));
    const added = [...next].filter((p) => !this.inputs.has(p));
    this.inputs = next;
    if (gone.length > 0) this.inputWatcher.unwatch(gone);
    if (added.length > 0) this.inputWatcher.add(added);
  }

  async close(): Promise<void> {
    this.debouncer.cancel();
    await Promise.all([this.fileWatcher.close(), this.inputWatcher.close()]);
  }
}
