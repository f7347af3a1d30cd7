// CPU time (Linux /proc): a process's own (all its threads), and the whole machine's busy and idle time, so a
// configuration's cost per event and how much of the machine was left idle are measured, not assumed.
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The machine's CPU time so far, in seconds summed over its cores. */
export interface MachineCpu {
  busy: number;
  idle: number;
}

/** From /proc/stat's first line; idle counts iowait too. Undefined without /proc. */
export function readMachineCpu(): MachineCpu | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    return { busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND, idle: (idle + iowait) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** Share of the machine's CPU time between two readings that was idle (0 to 1). */
export function idleShare(from: MachineCpu, to: MachineCpu): number {
  const idle = to.idle - from.idle;
  const total = idle + to.busy - from.busy;
  return total > 0 ? idle / total : Number.NaN;
}

/** Another process's CPU time so far (user + system, all threads), in seconds; undefined once it is gone. */
export function readProcessCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** What a window of a run cost: the process's CPU time and the machine's idle share. */
export interface CpuCost {
  cpuSeconds: number;
  machineIdleShare: number;
}

interface CpuSample {
  at: number;
  process: number;
  machine: MachineCpu;
}

/**
 * Samples a process's CPU time and the machine's every `intervalMs`, so the cost of a window known only
 * afterwards (a drain's first to last result line) can be read by interpolating between the samples around it.
 */
export class CpuWatch {
  private readonly samples: CpuSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const process = readProcessCpuSeconds(this.pid);
    const machine = readMachineCpu();
    if (process !== undefined && machine) this.samples.push({ at: performance.now(), process, machine });
  }

  /** The cost between two performance.now() times; NaN where the samples do not cover them. */
  between(from: number, to: number): CpuCost {
    const start = this.at(from);
    const end = this.at(to);
    if (!start || !end) return { cpuSeconds: Number.NaN, machineIdleShare: Number.NaN };
    return { cpuSeconds: end.process - start.process, machineIdleShare: idleShare(start.machine, end.machine) };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private at(time: number): Omit<CpuSample, "at"> | undefined {
    const after = this.samples.findIndex((sample) => sample.at >= time);
    if (after <= 0) return after === 0 ? this.samples[0] : undefined;
    const [a, b] = [this.samples[after - 1]!, this.samples[after]!];
    const f = (time - a.at) / (b.at - a.at);
    const mix = (x: number, y: number) => x + (y - x) * f;
    return { process: mix(a.process, b.process), machine: { busy: mix(a.machine.busy, b.machine.busy), idle: mix(a.machine.idle, b.machine.idle) } };
  }
}
