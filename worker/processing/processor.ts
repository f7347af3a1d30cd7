/**
 * The processor contract shared by every processing backend (text-insights, azure-openai, user modules)
 * and by the batch processor that drives them.
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
 * A permanent failure for one event: never retried, dead-lettered at once.
 * Any other error is treated as transient and retried with backoff, then dead-lettered when attempts run out.
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
 * A transient failure that knows how long the remote side asked us to wait (e.g. HTTP 429 Retry-After).
 * withRetry reads `retryAfterMs` through retryAfterMsOf.
 */
export class ThrottledError extends Error {
  override readonly name = "ThrottledError";
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** The wait a failure asked for, if it carries a numeric `retryAfterMs` (ThrottledError or look-alikes). */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("retryAfterMs" in error)) return undefined;
  const value = error.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
