import path from "node:path";
import { MessageChannel } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import { TransientError } from "../failures";
import type { EventInput, EventSettlement, Processor } from "./processor";
import { Semaphore } from "./semaphore";
import { ProcessingTimeoutError, toSettlement, type PoolTask, type TaskOutcome } from "./thread-protocol";

/**
 * Tasks posted to a thread ahead of the one it runs, so it never waits for the main thread to send the next
 * (one at a time, a thread sat idle 30-45% of the time). A task is a share of a batch, so a few suffice.
 */
const TASKS_POSTED_PER_THREAD = 4;

/** Set when a task's thread stopped yielding and was terminated. */
interface Watchdog {
  stalled: boolean;
  replaced: Promise<unknown>;
  /** The task has its outcome: a progress report that arrives after it (ports are not ordered) is stale. */
  finished?: boolean;
}

/** How much longer than PROCESSOR_TIMEOUT_MS the watchdog waits for a thread that stopped yielding. */
const WATCHDOG_GRACE_MS = 1000;

export interface ProcessingPoolOptions {
  /** Reported as Processor.name and in results. */
  name: string;
  /** Thread entry file name next to this file, without extension (e.g. "text-insights-thread"). */
  entry: string;
  threads: number;
  /** Tasks (shares of a batch) that may wait inside the pool for a thread; further callers wait for room (backpressure). */
  maxQueue: number;
  /** Longest one event may take on a thread (PROCESSOR_TIMEOUT_MS). */
  timeoutMs: number;
  workerData?: unknown;
}

/**
 * A Processor that runs events on a fixed set of worker threads (piscina), keeping CPU-bound inference off
 * the event loop so ownership renewal and AMQP keep running. A batch is split into one task per thread, so
 * every thread works on it and each event costs no message of its own.
 *
 * Bounded: at most `threads` tasks run and `maxQueue` wait inside piscina; any further `process` call waits
 * for a permit before it is handed to piscina, so a slow model slows the callers (the partition batches)
 * instead of growing a queue. The callers are bounded in turn by the subscription's batch size.
 */
export class ProcessingPool implements Processor {
  private readonly admission: Semaphore;
  /** Per thread: the task whose event started last on it, and the timer that declares the thread stuck. */
  private readonly threadGuards = new Map<number, { owner: Watchdog; timer: NodeJS.Timeout; started: number }>();
  private highestQueued = 0;

  private constructor(
    readonly name: string,
    private readonly piscina: Piscina<PoolTask, TaskOutcome[]>,
    private readonly threads: number,
    maxQueue: number,
    private readonly timeoutMs: number,
  ) {
    this.admission = new Semaphore(threads + maxQueue);
  }

  /** Starts the threads and waits until each has loaded its model or module; a load failure rejects here. */
  static async start(options: ProcessingPoolOptions): Promise<ProcessingPool> {
    const { threads, maxQueue } = options;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
    const filename = threadEntryPath(options.entry);
    const piscina = new Piscina<PoolTask, TaskOutcome[]>({
      filename,
      name: "default",
      minThreads: threads,
      maxThreads: threads,
      maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY, // loading a model is expensive: keep threads alive
      // Synchronous handlers still run the posted tasks one after another.
      concurrentTasksPerWorker: TASKS_POSTED_PER_THREAD,
      execArgv: threadExecArgv(filename),
      workerData: options.workerData,
    });
    const pool = new ProcessingPool(options.name, piscina, threads, maxQueue, options.timeoutMs);
    try {
      const warmUps = await Promise.all(Array.from({ length: threads }, () => pool.submit({ warmUp: true })));
      for (const settlement of warmUps.flat()) if (!settlement.ok) throw settlement.error;
    } catch (error) {
      await piscina.destroy();
      throw error;
    }
    return pool;
  }

  /** Waits for room (abortable while waiting), then runs the event on a thread; started work is never cut short. */
  async process(input: EventInput, signal?: AbortSignal): Promise<unknown> {
    const [settlement] = await this.processMany([input], signal);
    if (!settlement) throw new Error("the pool returned no outcome for the event");
    if (!settlement.ok) throw settlement.error;
    return JSON.parse(settlement.json) as unknown;
  }

  /** The events in one task per thread; a task whose wait for room is aborted settles its events with the abort reason. */
  async processMany(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]> {
    const perTask = Math.max(1, Math.ceil(inputs.length / this.threads));
    const tasks: Array<Promise<EventSettlement[]>> = [];
    for (let start = 0; start < inputs.length; start += perTask) tasks.push(this.runShare(inputs.slice(start, start + perTask), signal));
    return (await Promise.all(tasks)).flat();
  }

  /**
   * One share of a batch on a thread. Each event has PROCESSOR_TIMEOUT_MS on the thread; a thread that does not
   * answer within that for every event of the share (a synchronous hang) is terminated by piscina and replaced,
   * and the share's events run again one task each, so only the event that hangs is charged with it.
   */
  private async runShare(share: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]> {
    const watchdog: Watchdog = { stalled: false, replaced: Promise.resolve() };
    try {
      return await this.submit({ inputs: share, timeoutMs: this.timeoutMs }, signal, watchdog);
    } catch (error) {
      if (watchdog.stalled) {
        await watchdog.replaced; // so the share's events do not land on the thread being terminated
        if (share.length > 1) return (await Promise.all(share.map((input) => this.runShare([input], signal)))).flat();
        return [{ ok: false, error: new ProcessingTimeoutError(this.timeoutMs) }];
      }
      if (signal?.aborted) return share.map((): EventSettlement => ({ ok: false, error: signal.reason }));
      // Another task's watchdog terminated the thread this one shared: not these events' doing.
      if (error instanceof Error && /worker exited with code|terminating worker thread/i.test(error.message)) {
        return share.map((): EventSettlement => ({ ok: false, error: new TransientError("the processing thread was replaced; the event runs again") }));
      }
      throw error;
    }
  }

  /** Tasks waiting inside piscina for a thread (never more than maxQueue). */
  get queued(): number {
    return this.piscina.queueSize;
  }

  /** The most tasks ever seen waiting inside piscina. */
  get peakQueued(): number {
    return this.highestQueued;
  }

  /** Callers waiting for room in the pool (their events are not yet handed to piscina). */
  get waiting(): number {
    return this.admission.waiting;
  }

  /** Lets running and queued tasks finish, then stops the threads. */
  async close(): Promise<void> {
    await this.piscina.close();
  }

  /**
   * Waits for room (abortable by `signal`), then runs the task. The thread reports the start of each event on a
   * message port. A thread that starts no event and finishes no task for PROCESSOR_TIMEOUT_MS (plus a grace) is
   * stuck in code that never yields, and the culprit is the event that started last on it: the watchdog marks
   * that task, terminates the thread, and piscina replaces it. (piscina's own task abort would do the same, but
   * it keeps a thread with an abortable task from taking any other task.)
   */
  private async submit(task: PoolTask, signal?: AbortSignal, watchdog?: Watchdog): Promise<EventSettlement[]> {
    await this.admission.acquire(signal);
    const channel = watchdog ? new MessageChannel() : undefined;
    try {
      channel?.port1.on("message", ([threadId, started]: [number, number]) => this.eventStarted(threadId, started, watchdog as Watchdog));
      channel?.port1.unref();
      const running = channel ? this.piscina.run({ ...task, progress: channel.port2 } as PoolTask, { transferList: [channel.port2] }) : this.piscina.run(task);
      this.highestQueued = Math.max(this.highestQueued, this.piscina.queueSize);
      return (await running).map(toSettlement);
    } finally {
      if (watchdog) watchdog.finished = true;
      channel?.port1.close();
      for (const [threadId, guard] of this.threadGuards) {
        if (guard.owner === watchdog) {
          clearTimeout(guard.timer);
          this.threadGuards.delete(threadId);
        }
      }
      this.admission.release();
    }
  }

  private eventStarted(threadId: number, started: number, owner: Watchdog): void {
    if (owner.finished) return;
    const guard = this.threadGuards.get(threadId);
    if (guard && guard.started > started) return; // a later event's report arrived first, on another task's port
    clearTimeout(guard?.timer);
    const timer = setTimeout(() => {
      // A main thread that was busy runs due timers before it reads the messages that arrived meanwhile: judge
      // after those are read, so a task whose outcome is already here, or a thread that started another event,
      // is not taken for stuck.
      setImmediate(() => {
        if (owner.finished || this.threadGuards.get(threadId)?.timer !== timer) return;
        this.threadGuards.delete(threadId);
        owner.stalled = true;
        owner.replaced = this.piscina.threads.find((thread) => thread.threadId === threadId)?.terminate() ?? Promise.resolve();
      });
    }, this.timeoutMs + WATCHDOG_GRACE_MS);
    this.threadGuards.set(threadId, { owner, timer, started });
  }
}

/** The thread entry next to this file, with this file's own extension: .ts from sources (tsx, vitest), .js compiled (the image). */
function threadEntryPath(entry: string): string {
  return path.join(__dirname, entry + path.extname(__filename));
}

/**
 * Only a .ts entry (the worker run from its sources) needs a loader, tsx, a dev dependency: the compiled
 * worker's .js entries load without one, so the image never resolves tsx. Worker threads inherit the parent's
 * execArgv, which under `node --import tsx` holds tsx already; under vitest (which transforms only its own
 * module graph) it is added here.
 */
function threadExecArgv(filename: string): string[] | undefined {
  if (path.extname(filename) !== ".ts") return undefined;
  const loaderPath = require.resolve("tsx");
  const loaderUrl = pathToFileURL(loaderPath).href;
  const active = process.execArgv.some((arg) => arg === "tsx" || arg === loaderPath || arg === loaderUrl);
  return active ? undefined : [...process.execArgv, "--import", loaderUrl];
}
