/**
 * The processor contract shared by every processing backend (text-insights, azure-openai, user modules)
 * and by the batch pipeline that drives them.
 */

/** What a processor sees: plain, structured-clone-able data (it crosses the worker-thread boundary). */
export interface EventInput {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  /** ISO 8601. */
  enqueuedTimeUtc: string;
  messageId?: string;
  contentType?: string;
  /** Decoded body: a JSON value, a string, or a Uint8Array (see decode-event.ts). */
  body: unknown;
  properties: Record<string, unknown>;
  /**
   * 1 on the first try, more on retries. A retry has been sent before and holds its partition's commit (and a
   * hand-over or a drain) back, so where a processor queues for capacity (a remote model) it goes first.
   */
  attempt?: number;
}

export interface Processor {
  readonly name: string;
  /**
   * Resolves with a JSON-serialisable result. The signal cancels only the wait for capacity (a pool slot,
   * an HTTP concurrency slot): work that has started runs to completion, so shutdown never cuts a task short.
   */
  process(input: EventInput, signal?: AbortSignal): Promise<unknown>;
  /**
   * Optional: several events as one unit of work (the pool sends them to a thread in one message instead of
   * one per event). One settlement per input, in order; one event failing does not fail the others, and an
   * event whose wait for capacity the signal aborted settles with the signal's reason. Rejects only when the
   * processor itself broke (e.g. a pool thread died): then every event counts as a failed attempt.
   */
  processMany?(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]>;
  /** Tasks waiting for a processing thread (pool-backed processors), for the queue-depth gauge. */
  readonly queued?: number;
  /** Why the processor cannot work now (every model deployment's circuit open): readiness reports it, not ready. */
  unavailable?(): string | undefined;
  /** What is wrong but does not stop processing (one deployment's open circuit while others carry the load). */
  degraded?(): string[];
  close(): Promise<void>;
}

/**
 * One event's outcome from processMany: the result as JSON text (it crosses the thread boundary as text and
 * sinks write it verbatim, so it is never parsed and re-serialised), and the processor's own time for it.
 */
export type EventSettlement = { ok: true; json: string; ms: number } | { ok: false; error: unknown };

/**
 * Runs one processing call and settles it: the result as JSON text, timed, or the error. Used on pool threads
 * and for processors that run on the main thread alike.
 */
export async function settle(run: () => unknown): Promise<EventSettlement> {
  const started = performance.now();
  try {
    const value = await run();
    const ms = performance.now() - started;
    return { ok: true, json: resultToJson(value), ms };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A result as JSON text; a result that cannot be serialised is a permanent failure of its event. */
export function resultToJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new PoisonEventError(`result is not JSON-serialisable: ${(error as Error).message}`);
  }
  return json ?? "null"; // undefined (or a function) has no JSON form: the event simply has no result
}

/**
 * Failures come in three kinds, and only the first may ever dead-letter a good-looking event:
 * - poison (PoisonEventError): the event itself is bad; never retried, dead-lettered at once;
 * - transient (isTransientFailure): a dependency is throttling, slow or down; retried without limit, so the
 *   partition waits and nothing is dead-lettered or checkpointed past the event;
 * - anything else: retried with backoff up to RETRY_MAX_ATTEMPTS, then dead-lettered with the error.
 */

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
