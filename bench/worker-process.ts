// The real worker as a benchmark child: the shared worker process (tools/worker-process.ts, started exactly as
// `npm run worker` starts it, so node flags added there are measured too) plus what the benchmark measures:
// its memory, and counters from its /metrics. Used by the benchmark and the chaos harness.
import { WorkerProcess, type WorkerProcessOptions } from "../tools/worker-process";
import { MemoryWatch } from "./process-memory";

export class BenchWorker extends WorkerProcess {
  private readonly memory: MemoryWatch;

  constructor(options: WorkerProcessOptions) {
    super(options);
    this.memory = new MemoryWatch(this.pid);
  }

  /** The kernel's high-water mark of the worker's resident set so far (bytes). */
  async peakRssBytes(): Promise<number> {
    if (this.running) await this.memory.poll();
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

  override async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    await this.memory.poll();
    const result = await super.stop(timeoutMs);
    this.memory.stop();
    return result;
  }

  kill(): void {
    this.signal("SIGKILL");
    this.memory.stop();
  }
}
