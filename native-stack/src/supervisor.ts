/**
 * Keeps one component running: an unexpected exit is logged and followed by a restart after the
 * back-off of backoff.ts; only the first start may fail the caller (a start-up failure).
 */
import { DEFAULT_RESTART_POLICY, type RestartPolicy, type RestartState, decideRestart, initialRestartState, restartStarted } from './backoff';

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** One running process of a component. */
export interface Running {
  pid: number | undefined;
  exited: Promise<ExitStatus>;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  component: string;
  start: () => Promise<Running>;
  /** One structured event (written as one JSON line by the caller). */
  log: (event: Record<string, unknown>) => void;
  onExit?: (exit: ExitStatus & { component: string }) => void;
  policy?: RestartPolicy;
  now?: () => number;
}

export interface Supervised {
  readonly component: string;
  pid(): number | undefined;
  /** Stop on request: no restart follows. */
  stop(): Promise<void>;
  /** Stop (SIGTERM) or kill (SIGKILL) the process and start it again at once, without back-off. */
  restart(how: 'graceful' | 'crash'): Promise<void>;
}

export async function supervise(opts: SupervisorOptions): Promise<Supervised> {
  const now = opts.now ?? Date.now;
  const policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  const { component } = opts;
  let current: Running | undefined = await opts.start();
  let state: RestartState = initialRestartState(now());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let starting: Promise<void> | undefined;
  /** Processes we stop or kill on purpose: their exit is not a crash. */
  const expected = new WeakSet<Running>();

  const watch = (r: Running) => {
    void r.exited.then((exit) => {
      if (stopped || expected.has(r)) return;
      if (current === r) current = undefined;
      opts.onExit?.({ component, ...exit });
      scheduleRestart(exit);
    });
  };

  const scheduleRestart = (exit: ExitStatus) => {
    const d = decideRestart(state, now(), policy);
    state = d.state;
    opts.log({ event: 'component_exited', level: 'warn', component, code: exit.code, signal: exit.signal, attempt: d.attempt, delayMs: d.delayMs });
    if (d.crashLoop) {
      opts.log({ event: 'component_crash_loop', level: 'error', component, exits: d.state.recentExits.length, windowMs: policy.loopWindowMs, delayMs: d.delayMs });
    }
    timer = setTimeout(() => {
      timer = undefined;
      starting = opts.start().then(
        async (r) => {
          if (stopped) return r.stop();
          current = r;
          state = restartStarted(state, now());
          watch(r);
          opts.log({ event: 'component_restarted', level: 'warn', component, pid: r.pid, code: exit.code, signal: exit.signal, attempt: d.attempt, delayMs: d.delayMs });
        },
        (err: unknown) => {
          // A failed restart counts as one more crash: try again after the next back-off.
          opts.log({ event: 'component_restart_failed', level: 'error', component, attempt: d.attempt, error: err instanceof Error ? err.message : String(err) });
          if (!stopped) scheduleRestart({ code: null, signal: null });
        },
      ).finally(() => { starting = undefined; });
    }, d.delayMs);
  };

  watch(current);
  return {
    component,
    pid: () => current?.pid,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await starting;
      const r = current;
      current = undefined;
      await r?.stop();
    },
    async restart(how) {
      await starting;
      const old = current;
      if (!old || stopped) throw new Error(`${component} is not running`);
      expected.add(old);
      if (how === 'crash') {
        old.kill('SIGKILL');
        await old.exited;
      } else {
        await old.stop();
      }
      const next = await opts.start();
      current = next;
      state = restartStarted(state, now());
      watch(next);
    },
  };
}
