// Memory of another process, from /proc/<pid>/status (Linux): VmRSS now and VmHWM, the kernel's own
// high-water mark of the resident set, so a short peak between two polls is not missed.
import { readFile } from "node:fs/promises";

export interface MemorySample {
  rssBytes: number;
  peakRssBytes: number;
}

function kilobytesField(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Undefined once the process is gone (or on a system without /proc). */
export async function readProcessMemory(pid: number): Promise<MemorySample | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const rssBytes = kilobytesField(status, "VmRSS");
  const peakRssBytes = kilobytesField(status, "VmHWM");
  return rssBytes === undefined || peakRssBytes === undefined ? undefined : { rssBytes, peakRssBytes };
}

/** Polls a process's memory until stopped; `peakRssBytes` is the highest VmHWM seen (the last poll before exit). */
export class MemoryWatch {
  private peak = 0;
  private latest = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    const sample = await readProcessMemory(this.pid);
    if (!sample) return;
    this.latest = sample.rssBytes;
    this.peak = Math.max(this.peak, sample.peakRssBytes);
  }

  get peakRssBytes(): number {
    return this.peak;
  }

  get rssBytes(): number {
    return this.latest;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export const toMegabytes = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
