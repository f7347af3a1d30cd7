// A real worker process (`tsx worker/cli.ts`) for end-to-end tests: result lines from stdout (SINK=stdout),
// JSON log lines from stderr, bounded waits, signals, and kill -9 of the actual node process.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

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
export const FAST_WORKER_ENV: Record<string, string> = {
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

export class WorkerProcess {
  readonly results: ResultLine[] = [];
  readonly logs: LogLine[] = [];
  readonly stderrText: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.trim()) this.results.push(JSON.parse(line) as ResultLine);
    });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderrText.push(line);
      }
    });
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  static start(name: string, env: Record<string, string>): WorkerProcess {
    const child = spawn("node_modules/.bin/tsx", ["worker/cli.ts"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...FAST_WORKER_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new WorkerProcess(name, child);
  }

  /** The node process running the worker (tsx runs it as a child of its own). */
  get workerPid(): number | undefined {
    return this.logs.find((line) => typeof line.pid === "number")?.pid;
  }

  /** The owned partitions from the most recent "owned partitions" log line. */
  ownedPartitions(): string[] {
    const line = this.logs.findLast((l) => Array.isArray(l.ownedPartitions));
    return (line?.ownedPartitions as string[] | undefined) ?? [];
  }

  ownerId(): string | undefined {
    return this.logs.find((l) => typeof l.ownerId === "string")?.ownerId as string | undefined;
  }

  /** SIGTERM/SIGINT to the worker's node process (as a container runtime would). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.workerPid;
    if (pid === undefined) throw new Error(`${this.name}: no pid logged yet`);
    process.kill(pid, signal);
  }

  /** kill -9 of the worker's node process: no cleanup runs. */
  crash(): void {
    this.signal("SIGKILL");
  }

  /** Best effort for afterEach: kills whatever still runs. */
  async dispose(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const pid = this.workerPid;
    try {
      if (pid !== undefined) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    this.child.kill("SIGKILL");
    await Promise.race([this.exited, sleep(5000)]);
  }

  describe(): string {
    const tail = this.logs.slice(-15).map((l) => `${l.level} ${l.msg}`).join("\n    ");
    return `${this.name}: ${this.results.length} results; last logs:\n    ${tail}\n    ${this.stderrText.slice(-5).join("\n    ")}`;
  }
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passes; then fails with `describe()`. */
/** The worker processes one test file starts against its local stack, all disposed together after each test. */
export class WorkerFleet {
  private readonly running: WorkerProcess[] = [];

  constructor(private readonly stackEnv: () => Record<string, string>) {}

  start(name: string, hub: string, env: Record<string, string> = {}): WorkerProcess {
    const worker = WorkerProcess.start(name, { ...this.stackEnv(), EVENTHUB_NAME: hub, ...env });
    this.running.push(worker);
    return worker;
  }

  async disposeAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((worker) => worker.dispose()));
  }
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${describe()}` : ""}`);
}

/** Resolves with the exit, or fails after `timeoutMs`. */
export async function exitOf(worker: WorkerProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const result = await Promise.race([worker.exited, sleep(timeoutMs).then(() => undefined)]);
  if (!result) throw new Error(`${worker.name} did not exit within ${timeoutMs} ms\n${worker.describe()}`);
  return result;
}

export const key = (partitionId: string, sequenceNumber: number) => `${partitionId}:${sequenceNumber}`;
