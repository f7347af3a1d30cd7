import { threadId, type MessagePort } from "node:worker_threads";
import { PoisonEventError } from "../failures";
import type { EventInput, EventSettlement } from "./processor";
import { settle } from "./settle";

/**
 * One task for a pool thread: several events of one batch (one message each way instead of one per event),
 * or a warm-up that only makes the thread load its model or module.
 */
export type PoolTask =
  | { warmUp: true; inputs?: undefined }
  /** `progress` hears [thread id, events started on it] as each event starts: the main thread's watchdog (see pool.ts). */
  | { warmUp?: false; inputs: EventInput[]; timeoutMs: number; progress?: MessagePort };

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

/**
 * In the thread: runs the handler on each input in turn (one outcome each, in order; one event failing does
 * not affect the others), after `warmUp` (loading the model or module, at once when already loaded). A
 * warm-up task runs only `warmUp` and returns its single outcome.
 */
export async function runTask(task: PoolTask, handler: (input: EventInput) => unknown, warmUp: () => unknown = () => null): Promise<TaskOutcome[]> {
  if (task.warmUp) return [toOutcome(await settle(warmUp))];
  // A thread that replaced a stuck one loads its module on its first task: that loading is the thread's, so
  // it happens before any event's time limit starts (or the watchdog hears of an event), and a load that
  // fails fails each event of the task with its reason.
  const loaded = await settle(warmUp);
  if (!loaded.ok) return task.inputs.map(() => toOutcome(loaded));
  const outcomes: TaskOutcome[] = [];
  // Results are serialised here, on the thread: text is cheap to pass back, and the sinks write it as it is.
  for (const input of task.inputs) {
    task.progress?.postMessage([threadId, ++eventsStarted]);
    outcomes.push(toOutcome(await settle(() => withinTime(() => handler(input), task.timeoutMs))));
  }
  task.progress?.close();
  return outcomes;
}

/** Events started on this thread; orders progress reports that arrive on different tasks' ports. */
let eventsStarted = 0;

/** A promise that never settles ends here after timeoutMs (a synchronous hang is the main thread's watchdog's). */
async function withinTime<T>(run: () => T, timeoutMs: number): Promise<Awaited<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProcessingTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(run), expiry]);
  } finally {
    clearTimeout(timer);
  }
}

function toOutcome(settlement: EventSettlement): TaskOutcome {
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
