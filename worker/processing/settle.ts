// How one processing call becomes an EventSettlement (see processor.ts): on pool threads and for processors that
// run on the main thread alike.
import { PoisonEventError } from "../failures";
import type { EventSettlement } from "./processor";

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
function resultToJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new PoisonEventError(`result is not JSON-serialisable: ${(error as Error).message}`);
  }
  return json ?? "null"; // undefined (or a function) has no JSON form: the event simply has no result
}

