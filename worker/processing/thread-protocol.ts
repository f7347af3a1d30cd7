import { PoisonEventError, settle, type EventInput, type EventSettlement } from "./processor";

/**
 * One task for a pool thread: several events of one batch (one message each way instead of one per event),
 * or a warm-up that only makes the thread load its model or module.
 */
export type PoolTask = { warmUp: true; inputs?: undefined } | { warmUp?: false; inputs: EventInput[] };

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
 * not affect the others). A warm-up runs `warmUp` instead and returns its single outcome.
 */
export async function runTask(task: PoolTask, handler: (input: EventInput) => unknown, warmUp: () => unknown = () => null): Promise<TaskOutcome[]> {
  if (task.warmUp) return [toOutcome(await settle(warmUp))];
  const outcomes: TaskOutcome[] = [];
  // Results are serialised here, on the thread: text is cheap to pass back, and the sinks write it as it is.
  for (const input of task.inputs) outcomes.push(toOutcome(await settle(() => handler(input))));
  return outcomes;
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
