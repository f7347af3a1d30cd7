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
  /** Decoded body: a JSON value, a string, or a Uint8Array (see decode-event.ts); as received only for processReceived. */
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
  /**
   * Optional: as processMany, for inputs whose body is as received (the bytes of a data section, or an AMQP
   * value), not decoded yet: the processor decodes each as decode-event.ts's decodeBody does (the pool, on its
   * threads, off the event loop), and an event whose body cannot be decoded settles with a PoisonEventError.
   */
  processReceived?(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]>;
  /** Tasks waiting for a processing thread (pool-backed processors), for the queue-depth gauge. */
  readonly queued?: number;
  /** Processing threads running now (pool-backed processors), for the threads gauge. */
  readonly threadsRunning?: number;
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
