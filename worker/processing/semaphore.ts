import { waitInQueue } from "./abortable-queue";

/**
 * Counts permits for work that may run at once. Callers beyond the limit wait in FIFO order; that wait is
 * the backpressure: nothing queues inside the pool beyond the limit.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<{ grant: () => void }> = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`permits must be an integer >= 1, got ${permits}`);
    this.available = permits;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Permits in use. */
  get inUse(): number {
    return this.permits - this.available;
  }

  /** Waits for a permit; an abort while waiting rejects with the signal's reason and takes no permit. */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return waitInQueue<void, { grant: () => void }>(this.waiters, (grant) => ({ grant }), signal);
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant(); // the permit passes straight to the next waiter
    else this.available++;
  }
}
