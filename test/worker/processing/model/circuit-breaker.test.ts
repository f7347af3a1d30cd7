// The deployment's circuit breaker on a clock the test moves: when it opens, how long it holds, the one probe.
import { describe, expect, it } from "vitest";
import { CircuitBreaker, CONSECUTIVE_FAILURES } from "../../../../worker/processing/model/circuit-breaker";

function breaker() {
  const clock = { now: 0 };
  const states: string[] = [];
  const b = new CircuitBreaker(() => clock.now);
  b.onChange((state) => states.push(state));
  const fail = (times: number) => Array.from({ length: times }, () => b.failed(new Error("503")));
  return { b, clock, states, fail };
}

describe("circuit breaker", () => {
  it("opens after consecutive outage failures, and a success in between starts the count again", () => {
    const { b, states, fail } = breaker();
    fail(CONSECUTIVE_FAILURES - 1);
    b.succeeded();
    fail(CONSECUTIVE_FAILURES - 1);
    expect(b.current).toBe("closed");
    fail(1);
    expect(states).toEqual(["open"]);
    expect(b.waitMs()).toBe(1000);
  });

  it("lets exactly one probe through once the break is over; its failure doubles the break, its success closes", () => {
    const { b, clock, states, fail } = breaker();
    fail(CONSECUTIVE_FAILURES);
    clock.now = 1000;
    expect(b.current).toBe("half-open");
    expect(b.waitMs()).toBe(0);
    b.sending();
    expect(b.waitMs()).toBe(Number.POSITIVE_INFINITY); // the probe is on its way: nothing else goes
    fail(1);
    expect(b.waitMs()).toBe(2000);
    clock.now = 3000;
    b.sending();
    b.succeeded();
    expect(b.current).toBe("closed");
    expect(states).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });

  it("does not lengthen the break for requests that were sent before it opened and fail after", () => {
    const { b, fail } = breaker();
    fail(CONSECUTIVE_FAILURES + 4);
    expect(b.waitMs()).toBe(1000);
  });
});
