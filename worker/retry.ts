import { setTimeout as sleep } from "node:timers/promises";
import { isPoisonEventError } from "./failures";
import { plural } from "../common/plural";

export interface RetryPolicy {
  /** Total attempts including the first one (>= 1). */
  maxAttempts: number;
  /** Backoff before retry n is drawn from [0, min(maxDelayMs, baseDelayMs * 2^(n-1))] (full jitter). */
  baseDelayMs: number;
  /** Cap on any single wait, including a server-requested Retry-After. */
  maxDelayMs: number;
}

export interface RetryOptions {
  /** Aborting stops further attempts: a pending wait ends at once with RetryAbortedError. */
  signal?: AbortSignal;
  /** Default: everything except PoisonEventError is retryable. */
  isRetryable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Source of randomness for the jitter, in [0, 1). Injectable for tests. */
  random?: () => number;
}

/** Thrown when the signal aborts before the operation succeeded; `cause` is the last failure, if any. */
export class RetryAbortedError extends Error {
  override readonly name = "RetryAbortedError";
  constructor(readonly attempts: number, cause: unknown) {
    super(`retry aborted after ${plural(attempts, "attempt")}`, { cause });
  }
}

/** Runs `operation(attempt)` (attempt counts from 1) until it succeeds, fails permanently, or attempts run out. */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<T> {
  const { signal, isRetryable = (e) => !isPoisonEventError(e), onRetry, random = Math.random } = options;
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (signal?.aborted) throw new RetryAbortedError(attempt - 1, lastError);
    try {
      return await operation(attempt);
    } catch (error) {
      lastError = error;
      if (attempt === maxAttempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelayMs(policy, attempt, random);
      onRetry?.(error, attempt, delayMs);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        throw new RetryAbortedError(attempt, error);
      }
    }
  }
  throw lastError; // unreachable: the loop either returns or throws
}

/** The wait before the retry that follows failed attempt `attempt`. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number,
  requestedMs?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  if (requestedMs === undefined) return jittered;
  return Math.min(policy.maxDelayMs, Math.max(requestedMs, jittered));
}
