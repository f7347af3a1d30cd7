/**
 * Puts a waiter in `queue` (at the back, or where `insert` puts it) until someone calls its `grant`; an abort while
 * it waits removes it and rejects with the signal's reason. Shared by the pool's admission semaphore and the
 * model router.
 */
export function waitInQueue<T, W extends { grant: (value: T) => void }>(
  queue: W[],
  waiter: (grant: (value: T) => void) => W,
  signal?: AbortSignal,
  insert: (queue: W[], waiter: W) => void = (q, w) => q.push(w),
): Promise<T> {
  signal?.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const queued = waiter((value) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    });
    const onAbort = () => {
      const index = queue.indexOf(queued);
      if (index >= 0) queue.splice(index, 1);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    insert(queue, queued);
  });
}
