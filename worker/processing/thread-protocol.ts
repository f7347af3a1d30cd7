// What crosses between the pool (pool.ts, main thread) and its threads (pool-thread.ts): the tasks, their
// outcomes, and the task's watch, a few integers in shared memory through which the pool's watchdog sees what
// a thread is doing without a message per event.
import { PoisonEventError } from "../failures";
import type { EventInput, EventSettlement } from "./processor";

/**
 * One task for a pool thread: several events of one batch in one message each way, or a warm-up that only
 * makes the thread load its model or module.
 */
export type PoolTask = { warmUp: true } | EventsTask;

export interface EventsTask {
  warmUp?: false;
  events: EventsOnWire;
  timeoutMs: number;
  /** Written by the thread as it works (see Watch); read by the pool's watchdog. */
  watch: Int32Array;
}

/**
 * A task's events: each without its body, and the bodies that are bytes packed into one buffer that is
 * transferred, not copied (a received body is a view into the frame it arrived in, and cloning a view clones
 * its whole buffer).
 */
export interface EventsOnWire {
  events: Array<Omit<EventInput, "body">>;
  /** Per event, [start, end) of its body in `bytes`, or [-1, -1] when its body is `values[i]`. */
  spans: Int32Array;
  /** Bodies that are not bytes (JSON values, strings, AMQP values); undefined where the body is in `bytes`. */
  values: unknown[];
  bytes: ArrayBuffer;
  /** The bodies are as received, and the thread decodes them (decode-event.ts); else they are decoded already. */
  received: boolean;
}

/** Indices of a task's watch (an Int32Array over a SharedArrayBuffer). */
export const Watch = {
  /** The thread running the task (its threadId), once it has started it. */
  THREAD: 0,
  /** Events of the task started so far. */
  STARTED: 1,
  /** Events of the task finished so far: an event is running while STARTED > FINISHED. */
  FINISHED: 2,
  /** The thread's count of events started, at the start of the task's running event: the latest one ran last. */
  ORDER: 3,
  /** Moves whenever the thread's event loop turns or an event starts: a thread whose count stands still is busy in code that does not yield. */
  ACTIVITY: 4,
  SIZE: 5,
} as const;

export function newWatch(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Watch.SIZE * Int32Array.BYTES_PER_ELEMENT));
}

/** On the main thread: the events as one message, and what to transfer with it. */
export function packEvents(inputs: readonly EventInput[], received: boolean): { events: EventsOnWire; transfer: ArrayBuffer[] } {
  let length = 0;
  for (const { body } of inputs) if (body instanceof Uint8Array) length += body.byteLength;
  const bytes = new Uint8Array(length);
  const spans = new Int32Array(inputs.length * 2);
  const values: unknown[] = new Array(inputs.length);
  const events = new Array<Omit<EventInput, "body">>(inputs.length);
  let offset = 0;
  inputs.forEach(({ body, ...event }, i) => {
    events[i] = event;
    if (body instanceof Uint8Array) {
      bytes.set(body, offset);
      spans[2 * i] = offset;
      offset += body.byteLength;
      spans[2 * i + 1] = offset;
    } else {
      spans[2 * i] = spans[2 * i + 1] = -1;
      values[i] = body;
    }
  });
  return { events: { events, spans, values, bytes: bytes.buffer, received }, transfer: [bytes.buffer] };
}

/** On the thread: event i's body as it was packed (bytes come back as a view into the transferred buffer). */
export function unpackedBody({ spans, values, bytes }: EventsOnWire, i: number): unknown {
  const start = spans[2 * i] as number;
  return start < 0 ? values[i] : new Uint8Array(bytes, start, (spans[2 * i + 1] as number) - start);
}

/**
 * One event took longer than PROCESSOR_TIMEOUT_MS. An ordinary failure: retried, then dead-lettered with this
 * reason, because a local computation that never ends on one event while others finish is that event's doing.
 */
export class ProcessingTimeoutError extends Error {
  override readonly name = "ProcessingTimeoutError";
  constructor(timeoutMs: number) {
    super(`processing the event took longer than PROCESSOR_TIMEOUT_MS (${timeoutMs} ms)`);
  }
}

/**
 * What a pool thread sends back for one event. Errors travel as plain data because structured cloning keeps
 * only the built-in error names: a PoisonEventError thrown in a thread would otherwise arrive as "Error"
 * and be retried instead of dead-lettered.
 */
export type TaskOutcome =
  | { ok: true; json: string; ms: number }
  | { ok: false; error: ThreadError };

/** An error as plain data, with what classifies it (name, socket code, HTTP status) and any requested wait. */
interface ThreadError {
  name: string;
  message: string;
  retryAfterMs?: number;
  code?: string;
  status?: number;
}

/** On the thread: a settlement as it crosses back. */
export function toOutcome(settlement: EventSettlement): TaskOutcome {
  return settlement.ok ? settlement : { ok: false, error: describeError(settlement.error) };
}

/** On the main thread: the outcome as a settlement, the thread's error rebuilt with its name (a PoisonEventError stays one). */
export function toSettlement(outcome: TaskOutcome): EventSettlement {
  if (outcome.ok) return outcome;
  const { name, message, ...classifiers } = outcome.error;
  const error = name === "PoisonEventError" ? new PoisonEventError(message) : Object.assign(new Error(message), { name });
  return { ok: false, error: Object.assign(error, classifiers) };
}

function describeError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const described: ThreadError = { name: error.name, message: error.message };
  const { retryAfterMs, status, cause } = error as { retryAfterMs?: unknown; status?: unknown; cause?: { code?: unknown } };
  const code = (error as { code?: unknown }).code ?? cause?.code; // fetch puts the socket error's code on its cause
  if (typeof retryAfterMs === "number") described.retryAfterMs = retryAfterMs;
  if (typeof code === "string") described.code = code;
  if (typeof status === "number") described.status = status;
  return described;
}
