// Worker processes started by `npm run dev`, on the shared worker process (tools/worker-process.ts): result
// lines (stdout) and logs (stderr) captured to files, results counted for the progress display, and the worker's
// state (owner id, owned partitions) refreshed from its /status for the display.
import type { WriteStream } from "node:fs";
import { WorkerProcess } from "../worker-process";

const STATUS_REFRESH_MS = 500;

export interface ResultKey {
  partitionId: string;
  sequenceNumber: number;
}

export class DevWorker {
  ownerId: string | undefined;
  ownedPartitions: string[] = [];
  resultCount = 0;
  lastError: string | undefined;
  readonly exited: Promise<number | null>;
  private readonly process: WorkerProcess;

  constructor(
    readonly name: string,
    env: Record<string, string>,
    files: { results: WriteStream; log: WriteStream },
    onResult: (worker: DevWorker, key: ResultKey) => void,
  ) {
    this.process = new WorkerProcess({
      name,
      env,
      // Own process group: a Ctrl-C in the terminal reaches `npm run dev` only, which then stops the workers in order.
      detached: true,
      onResultLine: (line) => {
        files.results.write(`${line}\n`);
        try {
          const record = JSON.parse(line) as ResultKey;
          this.resultCount++;
          onResult(this, { partitionId: record.partitionId, sequenceNumber: record.sequenceNumber });
        } catch {
          // not a result line
        }
      },
      onStderrLine: (line) => {
        files.log.write(`${line}\n`);
        this.noteError(line);
      },
    });
    this.exited = this.process.exited.then((exit) => exit.code);
    // Lives as long as the process (cleared on exit), and never holds `npm run dev` open.
    const refresh = setInterval(() => void this.refreshStatus(), STATUS_REFRESH_MS).unref();
    void this.exited.then(() => clearInterval(refresh));
  }

  get metricsPort(): number | undefined {
    return this.process.metricsPort;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** SIGTERM: the worker drains, checkpoints and releases its partitions. Kills it if it takes too long. */
  async stop(timeoutMs: number): Promise<number | null> {
    return (await this.process.stop(timeoutMs)).code;
  }

  /** Immediate SIGKILL of the worker's process group (safe to call from an exit handler). */
  kill(): void {
    this.process.signal("SIGKILL");
  }

  private async refreshStatus(): Promise<void> {
    if (this.process.metricsPort === undefined || !this.running) return;
    try {
      const status = await this.process.status();
      this.ownerId = status.ownerId;
      this.ownedPartitions = status.ownedPartitions;
    } catch {
      // stopping or busy: the display keeps the last state it had
    }
  }

  /** The display shows the last error the worker logged (level error or fatal), or a line that is not JSON. */
  private noteError(line: string): void {
    let entry: { level?: unknown; msg?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.lastError = line.slice(0, 200);
      return;
    }
    if (typeof entry.level === "number" && entry.level >= 50) this.lastError = String(entry.msg);
  }
}
