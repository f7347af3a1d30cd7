// Runs the emulator as a child process (emulator-child.ts) and drives it: wait until it listens, ask it
// for a fault by signal and read the answer, kill -9 it and start it again on the same port, read its
// peak memory.
import { readFileSync } from "node:fs";
import { TsChild } from "../../tools/ts-child";
import { waitFor } from "../../tools/wait-for";

const START_TIMEOUT_MS = 60_000;
const ANSWER_TIMEOUT_MS = 10_000;

interface ChildLine {
  ready?: boolean;
  port?: number;
  connectionString?: string;
  fault?: string;
  affected?: number;
}

export class EmulatorProcess {
  private lines: ChildLine[] = [];

  private constructor(
    private child: TsChild,
    private readonly config: Record<string, unknown>,
    readonly port: number,
    readonly connectionString: string,
  ) {}

  /** Starts the emulator with `config` (an emulator config object) on `port` (0 = free port). */
  static async start(config: Record<string, unknown>, port = 0): Promise<EmulatorProcess> {
    const lines: ChildLine[] = [];
    const child = EmulatorProcess.spawn(config, port, lines);
    const ready = await EmulatorProcess.ready(child, lines);
    const emulator = new EmulatorProcess(child, config, ready.port!, ready.connectionString!);
    emulator.lines = lines;
    return emulator;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Peak resident memory of the process so far (Linux: VmHWM), in bytes. */
  peakRssBytes(): number {
    return this.procStatus("VmHWM");
  }

  /** Resident memory of the process now (Linux: VmRSS), in bytes. */
  rssBytes(): number {
    return this.procStatus("VmRSS");
  }

  private procStatus(field: string): number {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${this.child.pid}/status`, "utf8"));
    if (!match) throw new Error(`no ${field} in /proc/${this.child.pid}/status`);
    return Number(match[1]) * 1024;
  }

  detachReceivers(): Promise<number> {
    return this.ask("SIGUSR1", "detach");
  }

  dropConnections(): Promise<number> {
    return this.ask("SIGUSR2", "drop");
  }

  /** kill -9, wait `downMs`, start again on the same port with the same config (and data directory). */
  async crashAndRestart(downMs: number): Promise<void> {
    this.child.signal("SIGKILL");
    await this.child.exited;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.lines = [];
    this.child = EmulatorProcess.spawn(this.config, this.port, this.lines);
    await EmulatorProcess.ready(this.child, this.lines);
  }

  async stop(): Promise<void> {
    await this.child.stop(10_000);
  }

  describe(): string {
    return this.child.describe();
  }

  private async ask(signal: NodeJS.Signals, fault: string): Promise<number> {
    const seen = this.lines.length;
    this.child.signal(signal);
    let answer: ChildLine | undefined;
    await waitFor(`the emulator's answer to ${fault}`, () => (answer = this.lines.slice(seen).find((l) => l.fault === fault)) !== undefined, ANSWER_TIMEOUT_MS, () => this.describe());
    return answer?.affected ?? 0;
  }

  private static spawn(config: Record<string, unknown>, port: number, lines: ChildLine[]): TsChild {
    return new TsChild({
      name: "emulator",
      entry: "bench/chaos/emulator-child.ts",
      env: { EMULATOR_CHILD_CONFIG: JSON.stringify(config), EMULATOR_CHILD_PORT: String(port) },
      onStdoutLine: (line) => lines.push(JSON.parse(line) as ChildLine),
    });
  }

  private static async ready(child: TsChild, lines: ChildLine[]): Promise<ChildLine> {
    await waitFor("the emulator to listen", () => lines.some((l) => l.ready) || !child.running, START_TIMEOUT_MS, () => child.describe());
    const ready = lines.find((l) => l.ready);
    if (!ready) throw new Error(`the emulator did not start\n${child.describe()}`);
    return ready;
  }
}
