/** One-at-a-time execution per key: a function's start, drain and removal never interleave. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    // The chain must survive a failed task; the caller of run() receives (and handles) the error.
    this.tail = next.catch(() => undefined);
    return next;
  }
}
