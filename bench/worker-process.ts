// The real worker as a child process, started exactly as `npm run worker` starts it (the node arguments
// of package.json's "worker" script, so flags added there are measured too): results on stdout
// (SINK=stdout), JSON logs on stderr, Prometheus metrics on a port it picks (METRICS_PORT=0, read back
// from its start-up log line). Used by the benchmark and the chaos harness.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryWatch } from "./process-memory";
import { REPO_ROOT, TsChild, waitUntil, type LogEntry } from "./child-process";

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

export interface WorkerStartOptions {
  name: string;
  /** The stack's variables (EVENTHUB_CONNECTION_STRING, ...) plus any setting to override. */
  env: Record<string, string>;
  onResultLine?: (line: string, receivedAtMs: number) => void;
  onLog?: (entry: LogEntry, worker: BenchWorker) => void;
}

export class BenchWorker {
  metricsPort: number | undefined;
  ownerId: string | undefined;
  ownedPartitions: string[] = [];
  readonly process: TsChild;
  private readonly memory: MemoryWatch;

  constructor(options: WorkerStartOptions) {
    const command = workerCommand();
    this.process = new TsChild({
      name: options.name,
      entry: command.entry,
      nodeArgs: command.nodeArgs,
      // Loopback only, free port: several workers run side by side.
      env: { METRICS_PORT: "0", METRICS_HOST: "127.0.0.1", ...options.env },
      ...(options.onResultLine ? { onStdoutLine: options.onResultLine } : {}),
      onLog: (entry) => {
        if (typeof entry.metricsPort === "number") this.metricsPort = entry.metricsPort;
        if (typeof entry.ownerId === "string") this.ownerId = entry.ownerId;
        if (Array.isArray(entry.ownedPartitions)) this.ownedPartitions = entry.ownedPartitions as string[];
        options.onLog?.(entry, this);
      },
    });
    this.memory = new MemoryWatch(this.process.pid);
  }

  get name(): string {
    return this.process.name;
  }

  /** Resolves once the worker logged its metrics port (it is consuming from then on). */
  async started(timeoutMs: number): Promise<void> {
    await waitUntil(`${this.name} to start`, () => this.metricsPort !== undefined || !this.process.running, timeoutMs, () => this.process.describe());
    if (this.metricsPort === undefined) throw new Error(`${this.name} exited during start-up\n${this.process.describe()}`);
  }

  /** The kernel's high-water mark of the worker's resident set so far (bytes). */
  async peakRssBytes(): Promise<number> {
    if (this.process.running) await this.memory.poll();
    return this.memory.peakRssBytes;
  }

  /** The worker's resident set right now (bytes). */
  async rssBytes(): Promise<number> {
    await this.memory.poll();
    return this.memory.rssBytes;
  }

  /** Sum of a counter over its series whose labels include `labels`, from /metrics. */
  async counter(name: string, labels: Record<string, string> = {}): Promise<number> {
    if (this.metricsPort === undefined) throw new Error(`${this.name}: metrics port not known yet`);
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    const text = await response.text();
    let total = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      const matches = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
      if (matches) total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  }

  async stop(timeoutMs = 30_000): Promise<{ code: number | null; killed: boolean }> {
    await this.memory.poll();
    const result = await this.process.stop(timeoutMs);
    this.memory.stop();
    return result;
  }

  kill(): void {
    this.process.signal("SIGKILL");
    this.memory.stop();
  }
}
