/**
 * Coalesces a burst of events (an editor's save is often several writes and a rename; a `git
 * checkout` touches many files) into one call with everything that happened. Trailing: fires
 * `delayMs` after the last event; a continuous stream still fires every `maxWaitMs`.
 * Hand-written: a dozen lines that keep the collected items, which generic debounce helpers drop.
 * Timers are the global ones, so tests drive it with node:test's mock.timers.
 */
export class Debouncer<T> {
  private items = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private firstAt: number | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly maxWaitMs: number,
    private readonly fire: (items: T[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(item: T): void {
    this.items.add(item);
    this.firstAt ??= this.now();
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.firstAt + this.maxWaitMs - this.now()));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Drop what is pending without firing (shutdown). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.items.clear();
    this.firstAt = undefined;
  }

  private flush(): void {
    const items = [...this.items];
    this.cancel();
    if (items.length > 0) this.fire(items);
  }
}
