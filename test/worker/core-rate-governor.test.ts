// The process-wide rate governor: its gates in isolation. Orderings and counts, and lower bounds on waits
// (a gate may only open late on a loaded machine, never early).
import { describe, expect, it } from "vitest";
import { RateGovernor, type Permit } from "../../worker/processing/model/rate-governor";

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
    first.throttled("requests", 300, {});
    const next = await g.acquire(1);
    expect(performance.now() - throttledAt).toBeGreaterThanOrEqual(299);
    next.released();
    g.close();
  });

  it("learns a request rate from a 429, just under what was admitted, and paces to it", async () => {
    const g = governor({ maxConcurrency: 100, initialConcurrency: 100 });
    const burst: Permit[] = await Promise.all(Array.from({ length: 20 }, () => g.acquire(1)));
    expect(g.snapshot().requestRate).toBe(0); // no limit known before the service says so
    burst[0]?.throttled("requests", 0, {});
    for (const p of burst.slice(1)) p.succeeded(10, {});
    const learned = g.snapshot().requestRate;
    expect(learned).toBeCloseTo((20 / 2) * 0.9, 5); // 20 admitted over the 2 s measuring window, less 10%
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

  it("holds requests when the quota headers say none are left, until a fresher answer", async () => {
    const g = governor();
    const first = await g.acquire(1);
    first.succeeded(5, { remainingRequests: 0 });
    let granted = false;
    const next = g.acquire(1).then((p) => ((granted = true), p));
    await new Promise((resolve) => setImmediate(resolve));
    expect(granted).toBe(false);
    (await next).released(); // granted once the stale "0" expires (about a second)
    expect(granted).toBe(true);
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
