// The failure rules the processors, the sinks and the retry loops share. Failures come in three kinds, and only
// the first may ever dead-letter a good-looking event:
// - poison (PoisonEventError): the event itself is bad; never retried, dead-lettered at once;
// - transient (isTransientFailure): a dependency is throttling, slow or down; retried without limit, so the
//   partition waits and nothing is dead-lettered or checkpointed past the event;
// - anything else: retried with backoff up to RETRY_MAX_ATTEMPTS, then dead-lettered with the error.
// Kinds are recognised by name too, so errors that crossed a worker-thread boundary, and look-alikes a user
// module throws without importing anything, still count.

/**
 * A permanent failure for one event: never retried, dead-lettered at once.
 * Recognised by name as well as by class (see isPoisonEventError), so errors that crossed a worker-thread
 * boundary, or that a user module built itself with `name = "PoisonEventError"`, still count.
 */
export class PoisonEventError extends Error {
  override readonly name = "PoisonEventError";
}

export function isPoisonEventError(error: unknown): boolean {
  return error instanceof PoisonEventError || (error instanceof Error && error.name === "PoisonEventError");
}

/**
 * A dependency failed for reasons that are not the event's (an outage, a timeout). User modules may throw an
 * error named "TransientError" to say so; retryAfterMs, when set, is how long the dependency asked us to wait.
 */
export class TransientError extends Error {
  override readonly name: string = "TransientError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A transient failure that knows how long the remote side asked us to wait (e.g. HTTP 429 Retry-After). */
export class ThrottledError extends TransientError {
  override readonly name = "ThrottledError";
}

const TRANSIENT_NAMES = new Set(["TransientError", "ThrottledError", "TimeoutError", "APIConnectionError", "APIConnectionTimeoutError"]);
/** Socket and DNS failures (Node and undici codes): the network or the service, never the event. */
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN", "ENOTFOUND",
  "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED",
]);

/**
 * Whether a failure is the dependency's, not the event's: our transient errors by name, socket errors by code,
 * HTTP-style errors with status 408, 429 or 5xx, looked up along the `cause` chain (fetch wraps the socket error).
 */
export function isTransientFailure(error: unknown): boolean {
  for (let current = error, depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    const { name, code, status, statusCode } = current as { name?: unknown; code?: unknown; status?: unknown; statusCode?: unknown };
    if (typeof name === "string" && TRANSIENT_NAMES.has(name)) return true;
    if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
    const httpStatus = typeof status === "number" ? status : statusCode;
    if (typeof httpStatus === "number" && (httpStatus === 408 || httpStatus === 429 || httpStatus >= 500)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The wait a failure asked for, if it carries a numeric `retryAfterMs` (ThrottledError or look-alikes). */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("retryAfterMs" in error)) return undefined;
  const value = error.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
