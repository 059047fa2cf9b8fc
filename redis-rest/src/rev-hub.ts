/** Long-poll waiters of GET /v1/functions?after=REV: released by any rev different from theirs. */
export interface RevWaiter {
  after: number;
  release(): void;
}

export class RevHub {
  private readonly waiters = new Set<RevWaiter>();

  register(w: RevWaiter): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  /** A rev below `after` also releases: Redis lost its data and the counter started again. */
  onRev(rev: number): void {
    for (const w of [...this.waiters]) {
      if (rev !== w.after) {
        this.waiters.delete(w);
        w.release();
      }
    }
  }

  /** After a subscriber reconnect, messages may have been lost: let every poller re-read. */
  releaseAll(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.release();
  }

  get size(): number {
    return this.waiters.size;
  }
}
