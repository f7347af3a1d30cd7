// The process-wide rate governor: its gates in isolation. Orderings and counts, and lower bounds on waits
// (a gate may only open late on a loaded machine, never early).
import { describe, expect, it } from "vitest";
import { RateGovernor, type Permit } from "../../../../worker/processing/model/rate-governor";

const governor = (options: Partial<ConstructorParameters<typeof RateGovernor>[0]> = {}) =>
  new RateGovernor({ maxConcurrency: 8, initialConcurrency: 2, ...options });

describe("rate governor", () => {
  it("admits no more than the concurrency limit, first come first served", async () => {
    const g = governor();
    const order: number[] = [];
    const permits = Array.from({ length: 4 }, (_, i) => g.acquire(1).then((p) => (order.push(i), p)));
    const [a, b] = await Promise.all(permits.slice(0, 2));
    expect(g.snapshot()).toMatchObject({ inFlight: 2, waiting: 2 });
    a?.released();
    b?.released();
    await Promise.all(permits.slice(2)).then((rest) => rest.forEach((p) => p.released()));
    expect(order).toEqual([0, 1, 2, 3]);
    g.close();
  });

  it("after a 429 holds every request of the process until the service's wait is over", async () => {
    const g = governor();
    const first = await g.acquire(1);
    const throttledAt = performance.now();
    first.throttled("requests", 300);
    const next = await g.acquire(1);
    expect(performance.now() - throttledAt).toBeGreaterThanOrEqual(299);
    next.released();
    g.close();
  });

  it("learns a request rate from the first 429: 10% under what was admitted in the second before it", async () => {
    let now = 0;
    const g = governor({ maxConcurrency: 100, initialConcurrency: 100, now: () => now });
    const admitted: Permit[] = [];
    for (let i = 0; i < 20; i++) {
      now = i * 50; // 20 requests over the first second
      admitted.push(await g.acquire(1));
    }
    expect(g.snapshot().requestRate).toBe(0); // no limit known before the service says so
    now = 1000;
    const refused = await g.acquire(1);
    refused.throttled("requests", 200);
    expect(g.snapshot().requestRate).toBeCloseTo(20 * 0.9, 5);
    expect(g.snapshot().pausedForMs).toBe(200);
    admitted.forEach((p) => p.succeeded(10, {}));
    g.close();
  });

  it("a 429 with nothing admitted before it teaches no rate, only the pause", async () => {
    let now = 0;
    const g = governor({ now: () => now });
    (await g.acquire(1)).throttled("requests", 500);
    expect(g.snapshot()).toMatchObject({ requestRate: 0, pausedForMs: 500 });
    g.close();
  });

  it("honours hard limits per minute as an even pace", async () => {
    const g = governor({ maxConcurrency: 100, initialConcurrency: 100, maxRequestsPerMinute: 600 });
    expect(g.snapshot().requestRate).toBe(10);
    const started = performance.now();
    // The burst allowance is a quarter second of the pace (2.5 requests); the rest wait for it.
    const permits = await Promise.all(Array.from({ length: 5 }, () => g.acquire(1)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    permits.forEach((p) => p.released());
    g.close();
  });

  it("eases off when an answer says the window has no requests left, without pausing", async () => {
    let now = 0;
    const g = governor({ maxConcurrency: 100, initialConcurrency: 100, now: () => now });
    const permits: Permit[] = [];
    for (let i = 0; i < 10; i++) {
      now = i * 100;
      permits.push(await g.acquire(1));
    }
    now = 1000;
    permits.forEach((p, i) => p.succeeded(10, { remainingRequests: 9 - i }));
    expect(g.snapshot()).toMatchObject({ pausedForMs: 0 });
    // The ten admitted (the one that took the last slot included) over the 0.9 s they spanned, less 10%.
    expect(g.snapshot().requestRate).toBeCloseTo((10 / 0.9) * 0.9, 3);
    g.close();
  });

  it("an abort while waiting rejects with the signal's reason and takes no slot", async () => {
    const g = governor({ initialConcurrency: 1 });
    const held = await g.acquire(1);
    const controller = new AbortController();
    const waiting = g.acquire(1, controller.signal);
    controller.abort(new Error("shutting down"));
    await expect(waiting).rejects.toThrow("shutting down");
    held.released();
    expect(g.snapshot()).toMatchObject({ inFlight: 0, waiting: 0 });
    g.close();
  });
});
