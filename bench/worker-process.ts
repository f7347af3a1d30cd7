// The real worker (`worker/cli.ts`) as a child process, as users run it: results on stdout (SINK=stdout),
// JSON logs on stderr, Prometheus metrics on a port it picks (METRICS_PORT=0, read back from its
// start-up log line). Used by the benchmark and the chaos harness.
import { MemoryWatch } from "./process-memory";
import { TsChild, waitUntil, type LogEntry } from "./child-process";

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
    this.process = new TsChild({
      name: options.name,
      entry: "worker/cli.ts",
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
