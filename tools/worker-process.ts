// The worker as a child process, started one way for the tests, `npm run dev` and the benchmarks: exactly as
// `npm run worker` starts it (`node <its node flags> --import tsx worker/cli.ts`), with no wrapper process in
// between, so signals reach the worker itself, kill -9 hits it, and `pid` is the worker's pid.
// Its state (owner id, owned partitions, readiness) is read from its GET /status, never from its log text.
// The port: the worker is spawned with an IPC channel and sends its metrics port once it listens (see
// worker/cli.ts), so METRICS_PORT=0 works. Reserving a free port here and passing it instead would race: between
// releasing it and the worker listening (seconds of start-up), any outgoing connection can be given that port,
// and telling that failure apart from others would take parsing the worker's log. IPC is exact.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { WorkerStartedMessage, WorkerStatus } from "../worker/index";
import { REPO_ROOT, TsChild } from "./ts-child";
import { waitFor } from "./wait-for";

export type { WorkerStatus } from "../worker/index";

/** `node <node args> <entry>` from package.json's "worker" script (`exec node ...`: npm signals node itself). */
export function workerCommand(): { nodeArgs: string[]; entry: string } {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
  const words = (scripts.worker ?? "").trim().replace(/^exec\s+/, "").split(/\s+/);
  const entryAt = words.findIndex((word) => /\.(c|m)?[jt]s$/.test(word));
  if (words[0] !== "node" || entryAt === -1 || entryAt !== words.length - 1) {
    throw new Error(`package.json's "worker" script should read "exec node [node options] <entry>.ts", got "${scripts.worker}"`);
  }
  return { nodeArgs: words.slice(1, entryAt), entry: words[entryAt]! };
}

/** Whether an IPC message from the worker is the one it sends once started (see worker/cli.ts). */
export function isStartedMessage(message: unknown): message is WorkerStartedMessage {
  return typeof (message as Partial<WorkerStartedMessage> | null)?.workerStarted?.metricsPort === "number";
}

export interface WorkerProcessOptions {
  name: string;
  /** Worker settings, over PATH and HOME; METRICS_HOST and METRICS_PORT default to 127.0.0.1 and a free port. */
  env: Record<string, string>;
  /** Every stdout line (result lines with SINK=stdout) and when it was read; without it lines are only counted. */
  onResultLine?: (line: string, receivedAtMs: number) => void;
  /** Every stderr line as written. */
  onStderrLine?: (line: string) => void;
  /** In a process group of its own; signals go to the group. */
  detached?: boolean;
}

export class WorkerProcess extends TsChild {
  /** Where /status and /metrics answer, once the worker has started. */
  metricsPort: number | undefined;

  constructor(options: WorkerProcessOptions) {
    const command = workerCommand();
    super({
      name: options.name,
      entry: command.entry,
      nodeArgs: command.nodeArgs,
      // Loopback only, free port: several workers run side by side.
      env: { METRICS_PORT: "0", METRICS_HOST: "127.0.0.1", ...options.env },
      ...(options.onResultLine ? { onStdoutLine: options.onResultLine } : {}),
      ...(options.onStderrLine ? { onStderrLine: options.onStderrLine } : {}),
      onMessage: (message) => {
        if (isStartedMessage(message)) this.metricsPort = message.workerStarted.metricsPort;
      },
      detached: options.detached ?? false,
    });
  }

  /** Resolves with the metrics port once the worker has started (it is consuming from then on). */
  async started(timeoutMs: number): Promise<number> {
    await waitFor(`${this.name} to start`, () => this.metricsPort !== undefined || !this.running, timeoutMs, () => this.describe());
    if (this.metricsPort === undefined) throw new Error(`${this.name} exited during start-up\n${this.describe()}`);
    return this.metricsPort;
  }

  /** GET /status; fails if the worker has not started or does not answer. */
  async status(): Promise<WorkerStatus> {
    if (this.metricsPort === undefined) throw new Error(`${this.name}: not started yet, no /status to ask`);
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/status`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${this.name}: /status answered ${response.status}`);
    return (await response.json()) as WorkerStatus;
  }
}
