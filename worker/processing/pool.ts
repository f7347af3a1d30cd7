import path from "node:path";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import type { EventInput, Processor } from "./processor";
import { Semaphore } from "./semaphore";
import { unwrap, type TaskOutcome } from "./thread-protocol";

const TASKS_POSTED_PER_THREAD = 16;

/** One task for a pool thread. A warm-up task only makes the thread load its model or module. */
export type PoolTask = { warmUp: true; input?: undefined } | { warmUp?: false; input: EventInput };

export interface ProcessingPoolOptions {
  /** Reported as Processor.name and in results. */
  name: string;
  /** Thread entry file name next to this file, without extension (e.g. "text-insights-thread"). */
  entry: string;
  threads: number;
  /** Tasks that may wait inside the pool for a free thread; further callers wait for room (backpressure). */
  maxQueue: number;
  workerData?: unknown;
}

/**
 * A Processor that runs each event on a fixed set of worker threads (piscina), keeping CPU-bound inference
 * off the event loop so ownership renewal and AMQP keep running.
 *
 * Bounded: at most `threads` tasks run and `maxQueue` wait inside piscina; any further `process` call waits
 * for a permit before it is handed to piscina, so a slow model slows the callers (the partition batches)
 * instead of growing a queue. The callers are bounded in turn by the subscription's batch size.
 */
export class ProcessingPool implements Processor {
  private readonly admission: Semaphore;
  private highestQueued = 0;

  private constructor(
    readonly name: string,
    private readonly piscina: Piscina<PoolTask, TaskOutcome>,
    threads: number,
    maxQueue: number,
  ) {
    this.admission = new Semaphore(threads + maxQueue);
  }

  /** Starts the threads and waits until each has loaded its model or module; a load failure rejects here. */
  static async start(options: ProcessingPoolOptions): Promise<ProcessingPool> {
    const { threads, maxQueue } = options;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
    const filename = threadEntryPath(options.entry);
    const piscina = new Piscina<PoolTask, TaskOutcome>({
      filename,
      name: "default",
      minThreads: threads,
      maxThreads: threads,
      maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY, // loading a model is expensive: keep threads alive
      // Keep several tasks posted to each thread so it never idles waiting for the next message (one at a
      // time, a thread sat idle 30-45% of the time); synchronous handlers still run them one after another.
      concurrentTasksPerWorker: TASKS_POSTED_PER_THREAD,
      execArgv: threadExecArgv(filename),
      workerData: options.workerData,
    });
    const pool = new ProcessingPool(options.name, piscina, threads, maxQueue);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.submit({ warmUp: true })));
    } catch (error) {
      await piscina.destroy();
      throw error;
    }
    return pool;
  }

  /** Waits for room (abortable while waiting), then runs the event on a thread; started work is never cut short. */
  async process(input: EventInput, signal?: AbortSignal): Promise<unknown> {
    return this.submit({ input }, signal);
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

  private async submit(task: PoolTask, signal?: AbortSignal): Promise<unknown> {
    await this.admission.acquire(signal);
    try {
      const running = this.piscina.run(task);
      this.highestQueued = Math.max(this.highestQueued, this.piscina.queueSize);
      return unwrap(await running);
    } finally {
      this.admission.release();
    }
  }
}

/** The thread entry next to this file, with this file's own extension: .ts under tsx or vitest, .js when compiled. */
function threadEntryPath(entry: string): string {
  return path.join(__dirname, entry + path.extname(__filename));
}

/**
 * Worker threads inherit the parent's execArgv. Under `tsx worker/cli.ts` that already holds tsx's loader,
 * so .ts thread entries load. Under vitest (which transforms only its own module graph) or plain node, a
 * .ts entry needs tsx's loader added explicitly.
 */
function threadExecArgv(filename: string): string[] | undefined {
  if (path.extname(filename) !== ".ts") return undefined;
  const loaderPath = require.resolve("tsx");
  const loaderUrl = pathToFileURL(loaderPath).href;
  const active = process.execArgv.some((arg) => arg === "tsx" || arg === loaderPath || arg === loaderUrl);
  return active ? undefined : [...process.execArgv, "--import", loaderUrl];
}
