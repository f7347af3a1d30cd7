import { PoisonEventError } from "./processor";

/**
 * What a pool thread sends back for one task. Errors travel as plain data because structured cloning keeps
 * only the built-in error names: a PoisonEventError thrown in a thread would otherwise arrive as "Error"
 * and be retried instead of dead-lettered.
 */
export type TaskOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; retryAfterMs?: number } };

/** In the thread: runs the handler and turns its result or failure into a TaskOutcome. */
export async function settle(handler: () => unknown): Promise<TaskOutcome> {
  let value: unknown;
  try {
    value = await handler();
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
  try {
    // Results go to JSON sinks; converting here also keeps functions or class instances off the thread boundary.
    return { ok: true, value: value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown) };
  } catch (error) {
    return { ok: false, error: { name: "PoisonEventError", message: `result is not JSON-serialisable: ${(error as Error).message}` } };
  }
}

/** On the main thread: the value, or the thread's error rebuilt with its name (a PoisonEventError stays one). */
export function unwrap(outcome: TaskOutcome): unknown {
  if (outcome.ok) return outcome.value;
  const { name, message, retryAfterMs } = outcome.error;
  const error = name === "PoisonEventError" ? new PoisonEventError(message) : Object.assign(new Error(message), { name });
  if (retryAfterMs !== undefined) Object.assign(error, { retryAfterMs });
  throw error;
}

function describeError(error: unknown): { name: string; message: string; retryAfterMs?: number } {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const described: { name: string; message: string; retryAfterMs?: number } = { name: error.name, message: error.message };
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof retryAfterMs === "number") described.retryAfterMs = retryAfterMs;
  return described;
}
