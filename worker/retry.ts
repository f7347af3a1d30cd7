// The one retry loop of the worker: processing rounds, sink and dead-letter writes, batch commits, checkpoint
// writes and the start-up storage checks all retry through withRetry, so the backoff and its cap live here alone.
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

/**
 * Past this many doublings the ceiling is maxDelayMs for any policy the settings allow, so the exponent stops
 * growing there: a loop that never gives up keeps probing at the cap.
 */
const MAX_DOUBLINGS = 29;

export interface RetryOptions {
  /** Attempts in all, the first included: the policy's maxAttempts unless given. Infinity: until it succeeds, fails for good or the signal aborts. */
  attempts?: number;
  /**
   * Ends the retrying: a pending wait ends at once and no retry starts, with RetryAbortedError. The first attempt
   * always runs (what is already finished must still be written); an operation that must not start checks it itself.
   */
  signal?: AbortSignal;
  /** Default: everything except PoisonEventError is retryable. */
  isRetryable?: (error: unknown) => boolean;
  /** The wait a failure asks for (a server's Retry-After): waited at least that long, up to the policy's cap. */
  requestedDelayMs?: (error: unknown) => number | undefined;
  /** Whether a failure waits only what it asked for (none if it asked nothing), with no backoff under it. */
  onlyRequestedDelay?: (error: unknown) => boolean;
  /** A floor under every wait, so a jitter near zero does not retry at once. */
  minDelayMs?: number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Source of randomness for the jitter, in [0, 1). Injectable for tests. */
  random?: () => number;
}

/** Thrown when the signal aborts before the operation succeeded; `cause` is the last failure. */
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
  const { signal, isRetryable = (e) => !isPoisonEventError(e), requestedDelayMs, onlyRequestedDelay, minDelayMs = 0, onRetry, random = Math.random } = options;
  const maxAttempts = Math.max(1, Math.floor(options.attempts ?? policy.maxAttempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      if (signal?.aborted) throw new RetryAbortedError(attempt, error);
      const requested = requestedDelayMs?.(error);
      const waitMs = onlyRequestedDelay?.(error) ? Math.min(policy.maxDelayMs, requested ?? 0) : backoffDelayMs(policy, attempt, random, requested);
      const delayMs = Math.max(minDelayMs, waitMs);
      onRetry?.(error, attempt, delayMs);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        throw new RetryAbortedError(attempt, error);
      }
    }
  }
}

/** The wait before the retry that follows failed attempt `attempt`: full jitter, and at least what was requested. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number,
  requestedMs?: number,
): number {
  const doublings = Math.min(attempt - 1, MAX_DOUBLINGS);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** doublings);
  const jittered = Math.floor(random() * ceiling);
  if (requestedMs === undefined) return jittered;
  return Math.min(policy.maxDelayMs, Math.max(requestedMs, jittered));
}
