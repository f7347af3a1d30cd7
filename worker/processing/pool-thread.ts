// What runs in every pool thread around the processor's handler: a task's events in turn, decoded here when
// they arrive as received, each settled on its own, with the task's watch kept up to date for the pool's
// watchdog. Imported by each thread entry (text-insights-thread.ts, module-thread.ts).
import { getPriority, setPriority } from "node:os";
import { threadId } from "node:worker_threads";
import { decodeBody } from "../decode-event";
import type { EventInput } from "./processor";
import { settle } from "./settle";
import { ProcessingTimeoutError, toOutcome, unpackedBody, Watch, type EventsOnWire, type PoolTask, type TaskOutcome } from "./thread-protocol";

/**
 * How much lower than the main thread a processing thread runs (a nice increment). With as many threads as
 * cores, the main thread (AMQP, ownership, the sinks) and the threads compete for the same cores; the main
 * thread's share is small but its delays are every event's latency, so when it has work it goes first, and
 * the threads take all the rest. Linux only: there a thread's nice value is its own (elsewhere it would be
 * the whole process's, so threads keep their priority).
 */
const NICE_INCREMENT = 5;
if (process.platform === "linux") {
  try {
    setPriority(getPriority() + NICE_INCREMENT);
  } catch {
    // Not allowed here (a sandbox): the thread runs at the main thread's priority.
  }
}

/** How often a thread whose event loop turns says so (see Watch.ACTIVITY). */
const HEARTBEAT_MS = 100;

/** The watches of the tasks running on this thread: each learns of the thread's activity. */
const running = new Set<Int32Array>();
let heartbeat: NodeJS.Timeout | undefined;
/** Events started on this thread (Watch.ORDER). */
let eventsStarted = 0;

function active(): void {
  for (const watch of running) Atomics.add(watch, Watch.ACTIVITY, 1);
}

/**
 * Runs the handler on each event in turn (one outcome each, in order; one event failing does not affect the
 * others), after `warmUp` (loading the model or module, at once when already loaded). A warm-up task runs
 * only `warmUp` and returns its single outcome.
 */
export async function runTask(task: PoolTask, handler: (input: EventInput) => unknown, warmUp: () => unknown = () => null): Promise<TaskOutcome[]> {
  if (task.warmUp) return [toOutcome(await settle(warmUp))];
  const { events, timeoutMs, watch } = task;
  Atomics.store(watch, Watch.THREAD, threadId);
  // A thread that replaced a stuck one loads its module on its first task: that loading is the thread's, so
  // it happens before any event's time limit starts (or the watchdog sees an event running), and a load that
  // fails fails each event of the task with its reason.
  const loaded = await settle(warmUp);
  if (!loaded.ok) return events.events.map(() => toOutcome(loaded));
  running.add(watch);
  heartbeat ??= setInterval(active, HEARTBEAT_MS);
  try {
    const outcomes: TaskOutcome[] = [];
    // Results are serialised here, on the thread: text is cheap to pass back, and the sinks write it as it is.
    for (let i = 0; i < events.events.length; i++) {
      Atomics.store(watch, Watch.ORDER, ++eventsStarted);
      Atomics.add(watch, Watch.STARTED, 1);
      active();
      outcomes.push(toOutcome(await settle(() => withinTime(handler(eventInput(events, i)), timeoutMs))));
      Atomics.add(watch, Watch.FINISHED, 1);
    }
    return outcomes;
  } finally {
    running.delete(watch);
    if (running.size === 0) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
  }
}

/** Event i as the handler sees it: its body decoded here when it arrived as received (a bad body is a PoisonEventError). */
function eventInput(events: EventsOnWire, i: number): EventInput {
  const event = events.events[i] as Omit<EventInput, "body">;
  const body = unpackedBody(events, i);
  return { ...event, body: events.received ? decodeBody(body, event.contentType) : body };
}

/**
 * A promise that never settles ends here after timeoutMs; a value that is not a promise is returned as it is
 * (a synchronous hang is the main thread's watchdog's), so a synchronous handler costs no timer.
 */
function withinTime(result: unknown, timeoutMs: number): unknown {
  if (typeof (result as PromiseLike<unknown> | null)?.then !== "function") return result;
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProcessingTimeoutError(timeoutMs)), timeoutMs);
  });
  return Promise.race([result as PromiseLike<unknown>, expiry]).finally(() => clearTimeout(timer));
}
