// A TypeScript entry run as a real child process (`node --import tsx <entry>`, no wrapper process, so
// the pid is the process doing the work: it is what gets signalled and whose memory is read).
// stdout is either counted (newlines, cheaply, for throughput) or split into lines (for latency and
// verification); stderr is read as JSON log lines (pino) and kept in a short ring for diagnostics.
// Shared by the benchmarks, `npm run dev` and the tests (through tools/worker-process.ts for the worker).
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

export const REPO_ROOT = resolve(__dirname, "..");

/**
 * The environment every child program gets besides its own settings: PATH and HOME, and Node's compile cache
 * (NODE_COMPILE_CACHE) when this process has one, so a child loads its packages from V8's cached code.
 */
export function childEnvironment(settings: Record<string, string> = {}): Record<string, string> {
  const { PATH = "", HOME = "", NODE_COMPILE_CACHE } = process.env;
  return { PATH, HOME, ...(NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE } : {}), ...settings };
}
const NEWLINE = 0x0a;
const KEPT_LOG_LINES = 200;

export type LogEntry = Record<string, unknown> & { level?: number; msg?: string };

export interface TsChildOptions {
  name: string;
  /** Path of the entry relative to the repository root, e.g. "worker/cli.ts". */
  entry: string;
  env: Record<string, string>;
  args?: string[];
  /** Node's own arguments before the entry; default `--import tsx`. */
  nodeArgs?: string[];
  /** Called for every stdout line with the wall-clock time it was read; without it lines are only counted. */
  onStdoutLine?: (line: string, receivedAtMs: number) => void;
  onLog?: (entry: LogEntry) => void;
  /** Every stderr line as written (JSON or not), e.g. to keep a log file. */
  onStderrLine?: (line: string) => void;
  /** Opens an IPC channel to the child and passes on what it sends. */
  onMessage?: (message: unknown) => void;
  /** In a process group of its own (a terminal's Ctrl-C does not reach it); signals go to the whole group. */
  detached?: boolean;
}

export class TsChild {
  /** stdout lines so far, and when the first and last arrived (performance.now()). */
  stdoutLines = 0;
  firstStdoutAt: number | undefined;
  lastStdoutAt: number | undefined;
  readonly recentLogs: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(readonly options: TsChildOptions) {
    const nodeArgs = options.nodeArgs ?? ["--import", "tsx"];
    this.child = spawn(process.execPath, [...nodeArgs, resolve(REPO_ROOT, options.entry), ...(options.args ?? [])], {
      cwd: REPO_ROOT,
      env: childEnvironment(options.env),
      stdio: ["ignore", "pipe", "pipe", ...(options.onMessage ? ["ipc" as const] : [])],
      detached: options.detached ?? false,
    });
    if (options.onMessage) this.child.on("message", options.onMessage);
    this.exited = new Promise((done) => this.child.once("exit", (code, signal) => done({ code, signal })));
    this.readStdout(this.child);
    createInterface({ input: this.child.stderr! }).on("line", (line) => this.readLog(line));
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name}: the process did not start`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.options.detached ? -this.pid : this.pid, signal);
    } catch {
      // exited meanwhile
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
    this.signal("SIGTERM");
    // An unreferenced timer: a deadline that lost the race must not keep this process alive.
    const exit = await Promise.race([this.exited, sleep(timeoutMs, undefined, { ref: false }).then(() => undefined)]);
    if (exit) return { ...exit, killed: false };
    this.signal("SIGKILL");
    return { ...(await this.exited), killed: true };
  }

  describe(): string {
    return `${this.name} (pid ${this.child.pid}): ${this.stdoutLines} stdout lines; last log lines:\n  ${this.recentLogs.slice(-12).join("\n  ")}`;
  }

  private readStdout(child: ChildProcess): void {
    const stdout = child.stdout!;
    const { onStdoutLine } = this.options;
    if (onStdoutLine) {
      createInterface({ input: stdout, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        this.countLines(1);
        onStdoutLine(line, Date.now());
      });
      return;
    }
    stdout.on("data", (chunk: Buffer) => {
      let lines = 0;
      for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
      this.countLines(lines);
    });
  }

  private countLines(lines: number): void {
    if (lines === 0) return;
    const now = performance.now();
    this.firstStdoutAt ??= now;
    this.lastStdoutAt = now;
    this.stdoutLines += lines;
  }

  private readLog(line: string): void {
    this.options.onStderrLine?.(line);
    this.recentLogs.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
    if (this.recentLogs.length > KEPT_LOG_LINES) this.recentLogs.shift();
    if (!this.options.onLog || !line.startsWith("{")) return;
    try {
      this.options.onLog(JSON.parse(line) as LogEntry);
    } catch {
      // not a JSON log line (e.g. a Node warning)
    }
  }
}
