// The chaos run's worker processes: `slots` real workers (worker/cli.ts, SINK=blob), each restartable.
// Every process lifetime is its own instance ("w1#2": slot 1, second start), so results can be judged per
// owner run; results name their process by pid (see blob-results.ts).
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT } from "../../tools/ts-child";
import type { WorkerEnvironment } from "../../worker/index";
import { BenchWorker } from "../worker-process";
import { CHAOS_RESULTS_CONTAINER } from "./blob-results";

/** Settings for workers that rebalance within seconds and back off briefly, so a short run sees recovery. */
export const CHAOS_WORKER_ENV: WorkerEnvironment = {
  PROCESSOR: resolve(REPO_ROOT, "bench/chaos/integrity-processor.ts"),
  PROCESSOR_THREADS: "1",
  // Short, so an event the processor never settles on ("hung" fault) is dead-lettered within the run.
  PROCESSOR_TIMEOUT_MS: "1500",
  RETRY_MAX_ATTEMPTS: "3",
  LOAD_BALANCING: "greedy",
  LOAD_BALANCING_UPDATE_INTERVAL_MS: "1000",
  LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: "5000",
  EVENTHUB_MAX_RETRIES: "3",
  EVENTHUB_RETRY_DELAY_MS: "200",
  EVENTHUB_OPERATION_TIMEOUT_MS: "5000",
  RETRY_BASE_DELAY_MS: "50",
  RETRY_MAX_DELAY_MS: "1000",
  MAX_WAIT_MS: "500",
  SINK: "blob",
  SINK_BLOB_CONTAINER: CHAOS_RESULTS_CONTAINER,
  SHUTDOWN_TIMEOUT_MS: "10000",
  LOG_LEVEL: "info",
};

export class ChaosFleet {
  private readonly instanceByPid = new Map<number, string>();
  private readonly slots: BenchWorker[] = [];
  private readonly starts: number[] = [];
  readonly everyInstance: BenchWorker[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly size: number,
  ) {}

  /** Starts every slot and waits until each is consuming. */
  async start(timeoutMs: number): Promise<void> {
    for (let slot = 0; slot < this.size; slot++) this.launch(slot);
    await Promise.all(this.slots.map((worker) => worker.started(timeoutMs)));
  }

  worker(slot: number): BenchWorker {
    const worker = this.slots[slot];
    if (!worker) throw new RangeError(`no worker slot ${slot}`);
    return worker;
  }

  /** Partitions owned by some running worker, from their /status (one that exits meanwhile owns nothing). */
  async ownedPartitions(): Promise<Set<string>> {
    const owned = await Promise.all(
      this.slots.map((w) => (w.running ? w.status().then((status) => status.ownedPartitions, (error: unknown) => (w.running ? Promise.reject(error) : [])) : [])),
    );
    return new Set(owned.flat());
  }

  /** Starts a new instance in `slot` (the previous one must have exited). */
  launch(slot: number): BenchWorker {
    const start = (this.starts[slot] ?? 0) + 1;
    this.starts[slot] = start;
    const instance = `w${slot}#${start}`;
    const worker = new BenchWorker({
      name: instance,
      env: { ...this.env, ...CHAOS_WORKER_ENV },
    });
    this.instanceByPid.set(worker.pid, instance);
    this.slots[slot] = worker;
    this.everyInstance.push(worker);
    return worker;
  }

  /** kill -9, then a new instance after `restartAfterMs`. */
  async crash(slot: number, restartAfterMs: number): Promise<string> {
    const worker = this.worker(slot);
    worker.kill();
    await worker.exited;
    await sleep(restartAfterMs);
    this.launch(slot);
    return worker.name;
  }

  /** SIGTERM (graceful: drain, checkpoint, release), wait for the exit, then a new instance. */
  async terminate(slot: number, timeoutMs: number): Promise<{ name: string; code: number | null; killed: boolean }> {
    const worker = this.worker(slot);
    const exit = await worker.stop(timeoutMs);
    this.launch(slot);
    return { name: worker.name, ...exit };
  }

  async stopAll(timeoutMs: number): Promise<void> {
    await Promise.all(this.slots.map((worker) => worker.stop(timeoutMs)));
  }

  describe(): string {
    return this.everyInstance.map((w) => w.describe()).join("\n");
  }

  /** The instance name of the worker process with this pid. */
  instanceOf(pid: number | undefined): string {
    return (pid !== undefined ? this.instanceByPid.get(pid) : undefined) ?? `unknown process ${pid ?? "(no pid)"}`;
  }
}
