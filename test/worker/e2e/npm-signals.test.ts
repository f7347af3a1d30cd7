// `npm run worker` and `npm run emulator` as a process manager, CI script or `&` in a shell runs them: the
// signal goes to the npm process. The real process must shut down cleanly with exit 0, not be orphaned.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { fourPartitionHubs } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import type { WorkerStatus } from "../../../tools/worker-process";
import { FAST_WORKER_ENV } from "../../support/worker-process";

let stack: LocalStack;
const started: NpmRun[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("npmsignals") });
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((run) => run.dispose()));
});
afterAll(async () => {
  await stack?.stop();
});

/** `npm run <script>` in its own process group, with the JSON log lines of whatever it runs. */
class NpmRun {
  readonly logs: Array<{ pid?: number; msg?: string; [field: string]: unknown }> = [];
  readonly stdout: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn("npm", ["run", ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.stdout.push(line));
    createInterface({ input: this.child.stderr! }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line) as NpmRun["logs"][number]);
      } catch {
        // npm's own lines
      }
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    started.push(this);
  }

  get npmPid(): number {
    return this.child.pid as number;
  }

  /** The pid the real process logs (not npm's). */
  get realPid(): number | undefined {
    return this.logs.find((l) => typeof l.pid === "number")?.pid;
  }

  async exitWithin(ms: number) {
    const result = await Promise.race([this.exited, sleep(ms).then(() => undefined)]);
    if (!result) throw new Error(`npm did not exit within ${ms} ms; logs:\n${this.logs.slice(-10).map((l) => l.msg).join("\n")}`);
    return result;
  }

  async dispose(): Promise<void> {
    const pid = this.realPid;
    for (const target of [pid, -this.npmPid]) {
      try {
        if (target !== undefined) process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.race([this.exited, sleep(5000)]);
  }

  describe(): string {
    return this.logs.slice(-10).map((l) => `${String(l.level)} ${String(l.msg)}`).join("\n");
  }
}

/**
 * A free loopback port for METRICS_PORT. npm stands between this test and the worker, so the worker cannot
 * report its port over IPC (tools/worker-process.ts). The port is taken below the kernel's ephemeral range:
 * no outgoing connection or port-0 listener is given it between this check and the worker listening.
 */
async function unusedPort(): Promise<number> {
  const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  const below = Math.max(2000, (ephemeralLow ?? 32768) - 10_000);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = below + Math.floor(Math.random() * 9000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port below the ephemeral range after 20 tries");
}

/** The worker's /status, or undefined while nothing listens on the port yet. */
async function statusAt(port: number): Promise<WorkerStatus | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/status`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as WorkerStatus) : undefined;
}

async function gone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe("signals sent to npm reach the real process", () => {
  for (const [signal, target] of [["SIGTERM", "npm"], ["SIGINT", "the process group (Ctrl-C)"]] as const) {
    it(`npm run worker: ${signal} to ${target} shuts the worker down cleanly, exit 0`, async () => {
      const port = await unusedPort();
      const run = new NpmRun(["worker"], { ...FAST_WORKER_ENV, ...stack.env(), EVENTHUB_NAME: "npmsignals", METRICS_PORT: String(port) });
      let status: WorkerStatus | undefined;
      await waitFor("4 owned partitions", async () => (status = await statusAt(port))?.ownedPartitions.length === 4, 60_000, () => run.describe());
      const pid = status!.pid;
      expect(pid).not.toBe(run.npmPid); // the worker is npm's child, not npm itself
      process.kill(signal === "SIGTERM" ? run.npmPid : -run.npmPid, signal);
      expect(await run.exitWithin(30_000)).toEqual({ code: 0, signal: null });
      expect(run.logs.some((l) => l.msg === "shutdown complete")).toBe(true);
      await waitFor("the worker process gone", () => gone(pid), 10_000);
    });
  }

  it("npm run emulator: SIGTERM to npm stops the emulator and Azurite, exit 0; --help goes to stdout", async () => {
    const run = new NpmRun(["-s", "emulator", "--", "--port", "0", "--blob-port", "0", "--kafka-port", "0"], {});
    await waitFor("the settings on stdout", () => run.stdout.some((l) => l.startsWith("DEAD_LETTER_CONTAINER=")), 60_000, () => run.describe());
    const pid = run.realPid as number;
    process.kill(run.npmPid, "SIGTERM");
    expect(await run.exitWithin(30_000)).toEqual({ code: 0, signal: null });
    expect(run.logs.some((l) => l.msg === "stopped")).toBe(true);
    await waitFor("the emulator process gone", () => gone(pid), 10_000);

    const help = new NpmRun(["-s", "emulator", "--", "--help"], {});
    expect(await help.exitWithin(30_000)).toEqual({ code: 0, signal: null });
    expect(help.stdout.join("\n")).toMatch(/^Usage: emulator \[options\]/);
  });
});
