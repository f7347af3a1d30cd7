import path from "node:path";
import { pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import { decodeBody } from "../decode-event";
import { TransientError } from "../failures";
import type { EventInput, EventSettlement, Processor } from "./processor";
import { Semaphore } from "./semaphore";
import { newWatch, packEvents, ProcessingTimeoutError, toSettlement, Watch, type PoolTask, type TaskOutcome } from "./thread-protocol";

/**
 * Tasks posted to a thread ahead of the one it runs, so it never waits for the main thread to send the next
 * (one at a time, a thread sat idle 30-45% of the time). A task is a share of a batch, so a few suffice.
 */
const TASKS_POSTED_PER_THREAD = 4;

/**
 * The fewest events a batch's share for one thread holds: a smaller batch goes to one thread whole. A task
 * costs both threads a message (tens of microseconds); this many events take a thread a few milliseconds.
 */
const MIN_EVENTS_PER_TASK = 16;

/** How much longer than PROCESSOR_TIMEOUT_MS the watchdog waits for a thread that stopped yielding. */
const WATCHDOG_GRACE_MS = 1000;
/** How often the watchdog looks at the running tasks' watches. */
const WATCHDOG_INTERVAL_MS = 100;

/** A task on its way or running, as the watchdog follows it. */
interface RunningTask {
  readonly watch: Int32Array;
  /** The watch's ACTIVITY when last looked at, and since when it has not moved while an event was running. */
  activity: number;
  quietSince: number | undefined;
  /** Set when its thread stopped yielding and was terminated. */
  stalled: boolean;
  replaced: Promise<unknown>;
}

export interface ProcessingPoolOptions {
  /** Reported as Processor.name and in results. */
  name: string;
  /** Thread entry file name next to this file, without extension (e.g. "text-insights-thread"). */
  entry: string;
  /** Most threads; the first runs always, the others start when every running thread is busy. */
  threads: number;
  /** How long a thread beyond the first may go without work before it stops (PROCESSOR_THREAD_IDLE_MS). */
  idleThreadMs: number;
  /** Tasks (shares of a batch) that may wait inside the pool for a thread; further callers wait for room (backpressure). */
  maxQueue: number;
  /** Longest one event may take on a thread (PROCESSOR_TIMEOUT_MS). */
  timeoutMs: number;
  workerData?: unknown;
}

/**
 * A Processor that runs events on worker threads (piscina), keeping CPU-bound work off the event loop so
 * ownership renewal and AMQP keep running. One thread runs always; up to `threads` run while there is work for
 * them, and a thread beyond the first that has had none for `idleThreadMs` stops (its heap, tens of MB, is
 * returned). A task goes to an idle thread; when every thread is busy, a new one is started rather than the task
 * queued behind a busy one, until `threads` run; then it is posted to the least busy. A batch is split into one
 * task per thread (a small one goes to one thread whole), so every thread works on it and each event costs no
 * message of its own. With processReceived the threads also decode the bodies: the main thread only copies
 * their bytes into the task.
 *
 * Bounded: at most `threads` tasks run and `maxQueue` wait inside piscina; any further call waits for a
 * permit before it is handed to piscina, so a slow model slows the callers (the partition batches) instead of
 * growing a queue. The callers are bounded in turn by the subscription's batch size.
 */
export class ProcessingPool implements Processor {
  private readonly admission: Semaphore;
  private readonly running = new Set<RunningTask>();
  private watchdog: NodeJS.Timeout | undefined;
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

  /** Starts the first thread and waits until it has loaded its model or module; a load failure rejects here. */
  static async start(options: ProcessingPoolOptions): Promise<ProcessingPool> {
    const { threads, maxQueue } = options;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
    const filename = threadEntryPath(options.entry);
    const piscina = new Piscina<PoolTask, TaskOutcome[]>({
      filename,
      name: "default",
      minThreads: 1,
      maxThreads: threads,
      maxQueue,
      idleTimeout: options.idleThreadMs,
      // Synchronous handlers still run the posted tasks one after another.
      concurrentTasksPerWorker: TASKS_POSTED_PER_THREAD,
      loadBalancer: growBeforeQueueing(threads),
      execArgv: threadExecArgv(filename),
      workerData: options.workerData,
    });
    const pool = new ProcessingPool(options.name, piscina, threads, maxQueue, options.timeoutMs);
    try {
      const [warmUp] = await pool.submit({ warmUp: true }, []);
      if (warmUp && !warmUp.ok) throw warmUp.error;
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
  processMany(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]> {
    return this.runShares(inputs, false, signal);
  }

  /**
   * As processMany, for bodies as received: the threads decode them. A body that is not bytes (an AMQP value)
   * is checked here, because handing a value nested too deep to a thread would overflow the stack.
   */
  async processReceived(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]> {
    const settlements: EventSettlement[] = new Array(inputs.length);
    const sent: number[] = [];
    inputs.forEach((input, i) => {
      if (input.body instanceof Uint8Array) return void sent.push(i);
      try {
        decodeBody(input.body, input.contentType);
        sent.push(i);
      } catch (error) {
        settlements[i] = { ok: false, error };
      }
    });
    const outcomes = await this.runShares(sent.map((i) => inputs[i] as EventInput), true, signal);
    sent.forEach((i, k) => (settlements[i] = outcomes[k] as EventSettlement));
    return settlements;
  }

  private async runShares(inputs: EventInput[], received: boolean, signal: AbortSignal | undefined): Promise<EventSettlement[]> {
    const tasks = Math.max(1, Math.min(this.threads, Math.floor(inputs.length / MIN_EVENTS_PER_TASK)));
    const perTask = Math.ceil(inputs.length / tasks);
    const shares: Array<Promise<EventSettlement[]>> = [];
    for (let start = 0; start < inputs.length; start += perTask) shares.push(this.runShare(inputs.slice(start, start + perTask), received, signal));
    return (await Promise.all(shares)).flat();
  }

  /**
   * One share of a batch on a thread. Each event has PROCESSOR_TIMEOUT_MS on the thread; a thread that stops
   * yielding for longer (a synchronous hang) is terminated and replaced, and the share's events run again one
   * task each, so only the event that hangs is charged with it.
   */
  private async runShare(share: EventInput[], received: boolean, signal?: AbortSignal): Promise<EventSettlement[]> {
    const { events, transfer } = packEvents(share, received);
    const task: RunningTask = { watch: newWatch(), activity: 0, quietSince: undefined, stalled: false, replaced: Promise.resolve() };
    try {
      return await this.submit({ events, timeoutMs: this.timeoutMs, watch: task.watch }, transfer, signal, task);
    } catch (error) {
      if (task.stalled) {
        await task.replaced; // so the share's events do not land on the thread being terminated
        if (share.length > 1) return (await Promise.all(share.map((input) => this.runShare([input], received, signal)))).flat();
        return [{ ok: false, error: new ProcessingTimeoutError(this.timeoutMs) }];
      }
      if (signal?.aborted) return share.map((): EventSettlement => ({ ok: false, error: signal.reason }));
      // The watchdog terminated the thread this task shared with a stuck one: not these events' doing.
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

  /** Threads running now (between 1 and `threads`). */
  get threadsRunning(): number {
    return this.piscina.threads.length;
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

  /** Waits for room (abortable by `signal`), then runs the task, followed by the watchdog while it runs. */
  private async submit(task: PoolTask, transferList: ArrayBuffer[], signal?: AbortSignal, running?: RunningTask): Promise<EventSettlement[]> {
    await this.admission.acquire(signal);
    try {
      if (running) this.follow(running);
      const outcome = this.piscina.run(task, { transferList });
      this.highestQueued = Math.max(this.highestQueued, this.piscina.queueSize);
      return (await outcome).map(toSettlement);
    } finally {
      if (running) this.unfollow(running);
      this.admission.release();
    }
  }

  private follow(task: RunningTask): void {
    this.running.add(task);
    this.watchdog ??= setInterval(() => this.lookForStuckThreads(), WATCHDOG_INTERVAL_MS).unref();
  }

  private unfollow(task: RunningTask): void {
    this.running.delete(task);
    if (this.running.size > 0) return;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /**
   * A thread is stuck in code that never yields when, while one of its events runs, none of its tasks' watches
   * has moved for PROCESSOR_TIMEOUT_MS plus a grace: its event loop has not turned and it has started no event.
   * (A thread waiting for a promise keeps turning; its own timer ends an event that never settles.) The culprit
   * is the event that started last on it: the watchdog marks that task, terminates the thread, and piscina
   * replaces it. (piscina's own task abort would do the same, but it keeps a thread with an abortable task from
   * taking any other task.) The watches are shared memory, so what the watchdog reads is the thread's state now,
   * however late it looks: a thread whose event finished while the main thread was busy is not taken for stuck.
   */
  private lookForStuckThreads(): void {
    const now = performance.now();
    const quietThreads = new Map<number, boolean>();
    for (const task of this.running) {
      const { watch } = task;
      const thread = Atomics.load(watch, Watch.THREAD);
      if (Atomics.load(watch, Watch.STARTED) === Atomics.load(watch, Watch.FINISHED)) {
        task.quietSince = undefined; // no event of it is running
        continue;
      }
      const activity = Atomics.load(watch, Watch.ACTIVITY);
      if (task.quietSince === undefined || activity !== task.activity) {
        task.activity = activity;
        task.quietSince = now;
      }
      const quiet = now - task.quietSince > this.timeoutMs + WATCHDOG_GRACE_MS;
      quietThreads.set(thread, (quietThreads.get(thread) ?? true) && quiet);
    }
    for (const [thread, stuck] of quietThreads) if (stuck) this.replaceStuckThread(thread);
  }

  private replaceStuckThread(threadId: number): void {
    let culprit: RunningTask | undefined;
    for (const task of this.running) {
      const { watch } = task;
      if (Atomics.load(watch, Watch.THREAD) !== threadId || Atomics.load(watch, Watch.STARTED) === Atomics.load(watch, Watch.FINISHED)) continue;
      if (!culprit || Atomics.load(watch, Watch.ORDER) > Atomics.load(culprit.watch, Watch.ORDER)) culprit = task;
    }
    if (!culprit || culprit.stalled) return;
    for (const task of this.running) if (Atomics.load(task.watch, Watch.THREAD) === threadId) task.quietSince = undefined;
    culprit.stalled = true;
    culprit.replaced = this.piscina.threads.find((thread) => thread.threadId === threadId)?.terminate() ?? Promise.resolve();
  }
}

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>["loadBalancer"]>;

/**
 * An idle thread if there is one; else, while fewer than `maxThreads` run, none (piscina then starts a thread and
 * the task goes to whichever is free first: a new thread, ready in a fraction of a second, or a busy one
 * finishing); else the least busy thread with room for a posted task.
 */
function growBeforeQueueing(maxThreads: number): LoadBalancer {
  return (_task, workers) => {
    let leastBusy: (typeof workers)[number] | null = null;
    let running = 0;
    for (const worker of workers) {
      if (worker.terminating || worker.destroyed) continue;
      running++;
      if (worker.currentUsage === 0) return worker;
      if (worker.currentUsage < TASKS_POSTED_PER_THREAD && (!leastBusy || worker.currentUsage < leastBusy.currentUsage)) leastBusy = worker;
    }
    return running < maxThreads ? null : leastBusy;
  };
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
