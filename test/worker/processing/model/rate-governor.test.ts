// One deployment's rate governor: its gates in isolation, on a clock the test moves. The router's queue is
// stood in for by `demand`: whether work waits.
import { describe, expect, it } from "vitest";
import { RateGovernor, type Permit } from "../../../../worker/processing/model/rate-governor";

function governor(options: Partial<ConstructorParameters<typeof RateGovernor>[0]> = {}) {
  const clock = { now: 0 };
  const g = new RateGovernor({ maxConcurrency: 8, initialConcurrency: 2, now: () => clock.now, ...options });
  const demand = { waiting: false };
  let freed = 0;
  g.attach(() => demand.waiting, () => freed++);
  return { g, clock, demand, freed: () => freed };
}

/** Admits `count` requests, each at the time `at(i)` gives, as the router would once waitMs says 0. */
function admitAt(g: RateGovernor, clock: { now: number }, count: number, at: (i: number) => number): Permit[] {
  return Array.from({ length: count }, (_, i) => {
    clock.now = at(i);
    expect(g.waitMs(1)).toBe(0);
    return g.admit(1);
  });
}

describe("rate governor", () => {
  it("admits no more than the concurrency limit, and says when a slot frees", () => {
    const { g, freed } = governor();
    const [a, b] = [g.admit(1), g.admit(1)];
    expect(g.waitMs(1)).toBeUndefined(); // every slot taken: wait for a release, not for time
    a.released();
    expect(freed()).toBe(1);
    expect(g.waitMs(1)).toBe(0);
    b.released();
    expect(g.snapshot()).toMatchObject({ inFlight: 0 });
  });

  it("after a 429 holds every request until the service's wait is over", () => {
    const { g, clock } = governor();
    clock.now = 1000;
    g.admit(1).throttled("requests", 300);
    expect(g.waitMs(1)).toBe(300);
    clock.now = 1299;
    expect(g.waitMs(1)).toBe(1);
    clock.now = 1300;
    expect(g.waitMs(1)).toBe(0);
  });

  it("learns a request rate from the first 429: 10% under what was admitted in the second before it", () => {
    const { g, clock } = governor({ maxConcurrency: 100, initialConcurrency: 100 });
    const admitted = admitAt(g, clock, 20, (i) => i * 50); // 20 requests over the first second
    expect(g.snapshot().requestRate).toBe(0); // no limit known before the service says so
    clock.now = 1000;
    g.admit(1).throttled("requests", 200);
    expect(g.snapshot().requestRate).toBeCloseTo(20 * 0.9, 5);
    expect(g.snapshot().pausedForMs).toBe(200);
    admitted.forEach((p) => p.succeeded(10, {}));
  });

  it("a 429 with nothing admitted before it teaches no rate, only the pause", () => {
    const { g } = governor();
    g.admit(1).throttled("requests", 500);
    expect(g.snapshot()).toMatchObject({ requestRate: 0, pausedForMs: 500 });
  });

  it("honours hard limits per minute as an even pace, with a quarter second of burst", () => {
    const { g, clock } = governor({ maxConcurrency: 100, initialConcurrency: 100, maxRequestsPerMinute: 600 });
    expect(g.snapshot().requestRate).toBe(10);
    admitAt(g, clock, 2, () => 0); // the burst allowance is 2.5 requests
    expect(g.waitMs(1)).toBe(50); // the third waits for the pace: 0.5 of a request at 10/s
    clock.now = 50;
    expect(g.waitMs(1)).toBe(0);
  });

  it("eases off when an answer says the window has no requests left, without pausing", () => {
    const { g, clock } = governor({ maxConcurrency: 100, initialConcurrency: 100 });
    const permits = admitAt(g, clock, 10, (i) => i * 100);
    clock.now = 1000;
    permits.forEach((p, i) => p.succeeded(10, { remainingRequests: 9 - i }));
    expect(g.snapshot()).toMatchObject({ pausedForMs: 0 });
    // The ten admitted (the one that took the last slot included) over the 0.9 s they spanned, less 10%.
    expect(g.snapshot().requestRate).toBeCloseTo((10 / 0.9) * 0.9, 3);
  });

  it("paces to the fleet's share while it has one; an isolated 429 only pauses, repeated ones teach a lower rate", () => {
    const { g, clock } = governor({ maxConcurrency: 100, initialConcurrency: 100 });
    g.setShare({ requestsPerSecond: 4, tokensPerSecond: Number.POSITIVE_INFINITY });
    expect(g.snapshot()).toMatchObject({ requestRate: 4, share: { requestsPerSecond: 4 } });
    const permits = admitAt(g, clock, 4, (i) => i * 250); // exactly the share: 4 over the second
    clock.now = 1000;
    expect(g.usage().requestsPerSecond).toBe(4);
    g.admit(1).throttled("requests", 100); // replicas met in one of the service's windows
    expect(g.snapshot()).toMatchObject({ requestRate: 4, pausedForMs: 100 });
    g.admit(1).succeeded(10, { remainingRequests: 0 }); // a full window says nothing the shares do not
    expect(g.snapshot().requestRate).toBe(4);
    clock.now = 2000;
    g.admit(1).throttled("requests", 100); // again within seconds: the quota is lower than declared
    expect(g.snapshot().requestRate).toBeLessThan(4);
    const learned = g.snapshot().requestRate;
    g.setShare({ requestsPerSecond: 8, tokensPerSecond: Number.POSITIVE_INFINITY }); // another replica ran out of work
    expect(g.snapshot().requestRate).toBeCloseTo(learned * 2, 6); // learned under half the share: it doubles with it
    g.setShare({ requestsPerSecond: 4, tokensPerSecond: Number.POSITIVE_INFINITY });
    g.setShare(undefined); // coordination lost: the learned pace alone
    expect(g.snapshot().requestRate).toBeCloseTo(learned * 2, 6);
    expect(g.snapshot().share).toBeUndefined();
    permits.forEach((p) => p.succeeded(10, {}));
  });

  it("grows the pace and the concurrency limit only while work waits", () => {
    const { g, clock, demand } = governor({ maxConcurrency: 16, initialConcurrency: 2 });
    const idle = [g.admit(1), g.admit(1)];
    idle.forEach((p) => p.succeeded(10, {}));
    expect(g.snapshot().concurrencyLimit).toBe(2);
    demand.waiting = true;
    clock.now = 10;
    const busy = [g.admit(1), g.admit(1)];
    busy.forEach((p) => p.succeeded(10, {}));
    expect(g.snapshot().concurrencyLimit).toBeGreaterThan(2);
  });
});
