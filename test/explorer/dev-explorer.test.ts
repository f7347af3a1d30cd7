// `npm run dev` starts the explorer and prints its URL; the page's API shows the live pipeline: the dev hub's
// partitions, the workers' metrics, and their dead letters. Read-only unless --allow-writes.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childEnvironment } from "../../tools/ts-child";
import { waitFor } from "../../tools/wait-for";

interface Overview {
  title: string;
  allowWrites: boolean;
  hubs: Array<{ name: string; partitions: Array<{ lastEnqueuedSequenceNumber: number }> }>;
  workers: Array<{ error?: string; processed?: Record<string, number>; ownedPartitions?: number }>;
}

describe("npm run dev with the explorer", () => {
  it("prints the explorer's URL and serves the live pipeline while it runs", async () => {
    // Slow enough to still be running while the test looks at the page's API.
    const child = spawn(process.execPath, ["--import", "tsx", "tools/dev.ts", "--count", "100000", "--rate", "50", "--workers", "1", "--poison-every", "10"], {
      env: childEnvironment(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor("the explorer's URL", () => /explorer: http:\/\/127\.0\.0\.1:\d+\/ \(read-only/.test(output), 60_000, () => output);
      const url = /explorer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1] ?? "";
      expect(await (await fetch(url)).text()).toContain('<script type="module" src="/app.js">');

      const overview = async () => (await (await fetch(new URL("/api/overview", url))).json()) as Overview;
      const processed = (o: Overview) => Object.values(o.workers[0]?.processed ?? {}).reduce((a, b) => a + b, 0);
      await waitFor("the worker's metrics with processed events", async () => processed(await overview()) > 0, 60_000, () => output);
      const o = await overview();
      expect(o).toMatchObject({ title: "npm run dev", allowWrites: false });
      expect(o.hubs.map((h) => h.name)).toEqual(["events"]);
      expect(o.workers).toHaveLength(1);
      expect(o.workers[0]?.ownedPartitions).toBe(4);
      const dead = async () => ((await (await fetch(new URL("/api/dead-letters", url))).json()) as { entries: unknown[] }).entries.length;
      await waitFor("a dead letter listed", async () => (await dead()) > 0, 60_000, () => output);
      const replay = await fetch(new URL("/api/dead-letters/replay", url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ all: true }) });
      expect(replay.status).toBe(403);
    } finally {
      // Ctrl-C as a user would: dev stops its workers in order and exits.
      if (child.pid !== undefined) process.kill(-child.pid, "SIGINT");
    }
    const code = await Promise.race([exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 60_000))]);
    if (code === "timeout" && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    expect(code, output).toBe(0);
    expect(output).toContain("stopping (interrupted)");
  }, 200_000);
});
