// A real worker process for end-to-end tests, on the shared wrapper (tools/worker-process.ts): result lines
// from stdout (SINK=stdout), every log line from stderr (for tests that assert on logs), signals, kill -9.
// State (owner id, owned partitions, readiness) comes from the worker's /status, never from its logs.
import { setTimeout as sleep } from "node:timers/promises";
import { WorkerProcess } from "../../tools/worker-process";
import type { WorkerEnvironment } from "../../worker/config";

export interface ResultLine {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  messageId?: string;
  result: unknown;
}

export interface LogLine {
  level: number;
  msg: string;
  pid: number;
  [field: string]: unknown;
}

/** Settings that make a worker own partitions fast and stop quickly in tests. */
export const FAST_WORKER_ENV: WorkerEnvironment = {
  LOAD_BALANCING: "greedy",
  LOAD_BALANCING_UPDATE_INTERVAL_MS: "500",
  LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: "5000",
  EVENTHUB_MAX_RETRIES: "2",
  EVENTHUB_RETRY_DELAY_MS: "100",
  EVENTHUB_OPERATION_TIMEOUT_MS: "5000",
  MAX_BATCH_SIZE: "20",
  MAX_WAIT_MS: "200",
  PREFETCH_COUNT: "60",
  PROCESSOR_THREADS: "1",
  RETRY_BASE_DELAY_MS: "20",
  RETRY_MAX_DELAY_MS: "200",
  METRICS_PORT: "0",
  METRICS_HOST: "127.0.0.1",
  SHUTDOWN_TIMEOUT_MS: "15000",
  LOG_LEVEL: "info",
};

export class TestWorker extends WorkerProcess {
  readonly results: ResultLine[] = [];
  readonly logs: LogLine[] = [];
  readonly stderrText: string[] = [];

  constructor(name: string, env: Record<string, string>) {
    super({
      name,
      env: { ...FAST_WORKER_ENV, ...env },
      onResultLine: (line) => {
        if (line.trim()) this.results.push(JSON.parse(line) as ResultLine);
      },
      onStderrLine: (line) => {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderrText.push(line);
        }
      },
    });
  }

  /** kill -9 of the worker: no cleanup runs. */
  crash(): void {
    this.signal("SIGKILL");
  }

  /** Best effort for afterEach: kills whatever still runs. */
  async dispose(): Promise<void> {
    if (!this.running) return;
    this.signal("SIGKILL");
    await Promise.race([this.exited, sleep(5000, undefined, { ref: false })]);
  }

  override describe(): string {
    const tail = this.logs.slice(-15).map((l) => `${l.level} ${l.msg}`).join("\n    ");
    return `${this.name} (pid ${this.pid}): ${this.results.length} results; last logs:\n    ${tail}\n    ${this.stderrText.slice(-5).join("\n    ")}`;
  }
}

/** The worker processes one test file starts against its local stack, all disposed together after each test. */
export class WorkerFleet {
  private readonly running: TestWorker[] = [];

  constructor(private readonly stackEnv: () => Record<string, string>) {}

  start(name: string, hub: string, env: Record<string, string> = {}): TestWorker {
    const worker = new TestWorker(name, { ...this.stackEnv(), EVENTHUB_NAME: hub, ...env });
    this.running.push(worker);
    return worker;
  }

  async disposeAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((worker) => worker.dispose()));
  }
}

/** Resolves with the exit, or fails after `timeoutMs`. */
export async function exitOf(worker: TestWorker, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const result = await Promise.race([worker.exited, sleep(timeoutMs).then(() => undefined)]);
  if (!result) throw new Error(`${worker.name} did not exit within ${timeoutMs} ms\n${worker.describe()}`);
  return result;
}

export const key = (partitionId: string, sequenceNumber: number) => `${partitionId}:${sequenceNumber}`;
