// Worker processes started by `npm run dev`: each runs worker/cli.ts through tsx with the local stack's
// settings, its result lines (stdout) and logs (stderr) captured to files and followed for the progress display.
// Started as `node --import tsx` rather than the `tsx` wrapper: the wrapper relays SIGTERM and SIGKILLs a child
// that does not acknowledge within ~60 ms, which a busy worker can miss, cutting its graceful shutdown short.
import { spawn, type ChildProcess } from "node:child_process";
import type { WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

const REPO_ROOT = resolve(__dirname, "..", "..");

export interface ResultKey {
  partitionId: string;
  sequenceNumber: number;
}

export class DevWorker {
  ownerId: string | undefined;
  ownedPartitions: string[] = [];
  nodePid: number | undefined;
  metricsPort: number | undefined;
  resultCount = 0;
  lastError: string | undefined;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    env: Record<string, string>,
    files: { results: WriteStream; log: WriteStream },
    onResult: (worker: DevWorker, key: ResultKey) => void,
  ) {
    // Own process group: a Ctrl-C in the terminal reaches `npm run dev` only, which then stops the workers in order.
    this.child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "worker", "cli.ts")], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.exited = new Promise((resolvePromise) => this.child.once("exit", (code) => resolvePromise(code)));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      files.results.write(`${line}\n`);
      try {
        const record = JSON.parse(line) as ResultKey;
        this.resultCount++;
        onResult(this, { partitionId: record.partitionId, sequenceNumber: record.sequenceNumber });
      } catch {
        // not a result line
      }
    });
    createInterface({ input: this.child.stderr! }).on("line", (line) => {
      files.log.write(`${line}\n`);
      this.follow(line);
    });
  }

  private follow(line: string): void {
    let entry: { pid?: unknown; ownerId?: unknown; ownedPartitions?: unknown; level?: unknown; msg?: unknown; metricsPort?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.lastError = line.slice(0, 200);
      return;
    }
    if (typeof entry.pid === "number") this.nodePid ??= entry.pid;
    if (typeof entry.metricsPort === "number") this.metricsPort = entry.metricsPort;
    if (typeof entry.ownerId === "string") this.ownerId = entry.ownerId;
    if (Array.isArray(entry.ownedPartitions)) this.ownedPartitions = entry.ownedPartitions as string[];
    if (typeof entry.level === "number" && entry.level >= 50) this.lastError = String(entry.msg);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM: the worker drains, checkpoints and releases its partitions. Kills it if it takes too long. */
  async stop(timeoutMs: number): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.signal("SIGTERM");
    const code = await Promise.race([this.exited, sleep(timeoutMs).then(() => "timeout" as const)]);
    if (code !== "timeout") return code;
    this.signal("SIGKILL");
    return this.exited;
  }

  /** Immediate SIGKILL of the worker's process group (safe to call from an exit handler). */
  kill(): void {
    if (this.running) this.signal("SIGKILL");
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      // The whole group (the worker and anything it started).
      if (this.child.pid !== undefined) process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }
}
