/**
 * Restart policy of a supervised component, as Docker's `restart: unless-stopped` or systemd's
 * `Restart=on-failure` with a bounded exponential back-off. Pure: the caller passes the clock.
 */
export interface RestartPolicy {
  /** Delay before the first restart. */
  initialMs: number;
  /** Longest delay; a crash loop is retried at this pace forever. */
  maxMs: number;
  /** A component that stayed up this long starts again from initialMs. */
  resetAfterMs: number;
  /** `loopCrashes` exits within `loopWindowMs` is a crash loop (reported as an error). */
  loopWindowMs: number;
  loopCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialMs: 100, maxMs: 5_000, resetAfterMs: 10_000, loopWindowMs: 60_000, loopCrashes: 5,
};

export interface RestartState {
  /** Restarts since the component last stayed up resetAfterMs (0: none yet). */
  attempt: number;
  /** When the current process was started (ms, caller's clock). */
  startedAt: number;
  /** Exit times within the crash-loop window, oldest first. */
  recentExits: readonly number[];
}

export interface RestartDecision {
  state: RestartState;
  /** 1-based restart attempt this exit leads to. */
  attempt: number;
  delayMs: number;
  crashLoop: boolean;
}

export function initialRestartState(now: number): RestartState {
  return { attempt: 0, startedAt: now, recentExits: [] };
}

/** The process (re)started at `now`: the up-time clock starts again. */
export function restartStarted(state: RestartState, now: number): RestartState {
  return { ...state, startedAt: now };
}

/** The process exited unexpectedly at `now` (or failed to start): when to try again. */
export function decideRestart(state: RestartState, now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  const stayedUp = now - state.startedAt >= policy.resetAfterMs;
  const attempt = (stayedUp ? 0 : state.attempt) + 1;
  const recentExits = [...state.recentExits.filter((t) => now - t < policy.loopWindowMs), now];
  const crashLoop = recentExits.length >= policy.loopCrashes;
  const backoff = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  return {
    state: { attempt, startedAt: state.startedAt, recentExits },
    attempt,
    delayMs: crashLoop ? policy.maxMs : backoff,
    crashLoop,
  };
}
