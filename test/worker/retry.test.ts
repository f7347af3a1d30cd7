import { describe, expect, it } from "vitest";
import { PoisonEventError } from "../../worker/failures";
import { backoffDelayMs, RetryAbortedError, withRetry, type RetryPolicy } from "../../worker/retry";

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 40 };

function failing(times: number, make: () => unknown = () => new Error("flaky")) {
  const attempts: number[] = [];
  const operation = async (attempt: number) => {
    attempts.push(attempt);
    if (attempts.length <= times) throw make();
    return `ok after ${attempt}`;
  };
  return { operation, attempts };
}

describe("withRetry", () => {
  it("retries transient failures and reports each retry", async () => {
    const { operation, attempts } = failing(2);
    const retries: Array<[number, number]> = [];
    const result = await withRetry(operation, policy, { onRetry: (_e, attempt, delayMs) => retries.push([attempt, delayMs]) });
    expect(result).toBe("ok after 3");
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries.map(([attempt]) => attempt)).toEqual([1, 2]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    let n = 0;
    const { operation, attempts } = failing(10, () => new Error(`failure ${++n}`));
    await expect(withRetry(operation, policy)).rejects.toThrow("failure 4");
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it("never retries a PoisonEventError, nor what isRetryable rejects", async () => {
    const poison = failing(5, () => new PoisonEventError("bad body"));
    await expect(withRetry(poison.operation, policy)).rejects.toBeInstanceOf(PoisonEventError);
    expect(poison.attempts).toEqual([1]);
    const custom = failing(5, () => new TypeError("config"));
    await expect(withRetry(custom.operation, policy, { isRetryable: (e) => !(e instanceof TypeError) })).rejects.toBeInstanceOf(TypeError);
    expect(custom.attempts).toEqual([1]);
  });

  it("draws full-jitter delays within the exponential ceiling and the cap", () => {
    const big: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    const ceilings = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(big, attempt, () => 0.999999));
    expect(ceilings).toEqual([99, 199, 399, 799, 999, 999]);
    expect([1, 2, 3].map((attempt) => backoffDelayMs(big, attempt, () => 0))).toEqual([0, 0, 0]);
    expect(backoffDelayMs(big, 3, () => 0.5)).toBe(200);
  });

  it("honours a server-requested wait, capped at maxDelayMs", () => {
    expect(backoffDelayMs(policy, 1, () => 0, 25)).toBe(25);
    expect(backoffDelayMs(policy, 1, () => 0, 5_000)).toBe(40);
  });

  it("stops waiting at once when aborted and starts no further attempt", async () => {
    const controller = new AbortController();
    const slowPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const { operation, attempts } = failing(10);
    const pending = withRetry(operation, slowPolicy, { signal: controller.signal, random: () => 1 });
    setTimeout(() => controller.abort(), 20);
    const failure = await pending.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryAbortedError);
    expect((failure as RetryAbortedError).attempts).toBe(1);
    expect(((failure as Error).cause as Error).message).toBe("flaky");
    expect(attempts).toEqual([1]);
    // Already aborted: the first attempt still runs (finished work must still be written), no retry follows.
    await expect(withRetry(operation, slowPolicy, { signal: controller.signal })).rejects.toBeInstanceOf(RetryAbortedError);
    expect(attempts).toEqual([1, 1]); // this call's first attempt, and nothing after it
  });

  it("retries without limit when asked, until it succeeds or the signal aborts", async () => {
    const fast: RetryPolicy = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 };
    const { operation, attempts } = failing(7);
    await expect(withRetry(operation, fast, { attempts: Infinity })).resolves.toBe("ok after 8");
    expect(attempts).toHaveLength(8);
    const controller = new AbortController();
    const endless = withRetry(async (attempt) => {
      if (attempt === 3) controller.abort();
      throw new Error(`failure ${attempt}`);
    }, fast, { attempts: Infinity, signal: controller.signal });
    const failure = await endless.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryAbortedError);
    expect(((failure as Error).cause as Error).message).toBe("failure 3");
  });

  it("waits what a failure asks for, up to the cap, and never less than the floor", async () => {
    const delays: number[] = [];
    const asking = (retryAfterMs: number) => Object.assign(new Error("throttled"), { retryAfterMs });
    const errors = [asking(25), asking(5_000), new Error("plain")];
    await withRetry(async (attempt) => {
      if (attempt <= errors.length) throw errors[attempt - 1];
      return "done";
    }, policy, {
      attempts: Infinity,
      requestedDelayMs: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
      minDelayMs: 3,
      random: () => 0,
      onRetry: (_e, _attempt, delayMs) => delays.push(delayMs),
    });
    expect(delays).toEqual([25, 40, 3]);
  });

  it("waits only what a failure asks for when told so: no backoff under it, nothing when it asks nothing", async () => {
    const delays: number[] = [];
    const throttled = (retryAfterMs?: number) => Object.assign(new Error("throttled"), { name: "ThrottledError", retryAfterMs });
    const errors = [throttled(7), throttled(), throttled(5_000), new Error("plain")];
    await withRetry(async (attempt) => {
      if (attempt <= errors.length) throw errors[attempt - 1];
      return "done";
    }, policy, {
      requestedDelayMs: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
      onlyRequestedDelay: (e) => (e as Error).name === "ThrottledError",
      attempts: Infinity,
      random: () => 0.999999,
      onRetry: (_e, _attempt, delayMs) => delays.push(delayMs),
    });
    expect(delays).toEqual([7, 0, 40, 39]);
  });

  it("stops doubling the ceiling after 29 doublings, so a loop that never gives up keeps its cap", () => {
    const huge: RetryPolicy = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: Number.MAX_SAFE_INTEGER };
    expect(backoffDelayMs(huge, 30, () => 0.5)).toBe(2 ** 28);
    expect(backoffDelayMs(huge, 1_000, () => 0.5)).toBe(2 ** 28);
  });
});
