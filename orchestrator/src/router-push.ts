/**
 * Pushes of one function's router state, one at a time. Each push sends the state as it is when
 * the push begins, so a caller that changed the instance set and then awaits push() is answered
 * only by a push that contains its change (concurrent PUTs could otherwise land out of order and
 * an older snapshot would win). Callers arriving while a push runs share the next one.
 */
export class RouterPush {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly send: () => Promise<unknown>) {}

  push(): Promise<void> {
    if (!this.running) return this.start();
    if (!this.next) {
      // Runs after the current push settles, whatever its outcome: its own callers get that outcome.
      this.next = this.running.then(() => this.start(), () => this.start());
    }
    return this.next;
  }

  private start(): Promise<void> {
    this.next = undefined;
    const p = this.send().then(() => undefined);
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
