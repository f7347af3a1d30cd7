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
    await expect(withRetry(operation, slowPolicy, { signal: controller.signal })).rejects.toBeInstanceOf(RetryAbortedError);
    expect(attempts).toEqual([1]);
  });
});
