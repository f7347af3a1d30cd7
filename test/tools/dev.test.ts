// `npm run dev` as a user runs it (no TTY): local stack, two workers, producer, progress lines, summary.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { childEnvironment } from "../../tools/ts-child";
import { runProgram } from "../support/program";

describe("npm run dev", () => {
  it("runs the whole pipeline locally and prints a per-partition summary", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "dev-test-"));
    const child = spawn(process.execPath, ["--import", "tsx", "tools/dev.ts", "--count", "200", "--rate", "0", "--workers", "2", "--poison-every", "50"], {
      env: childEnvironment({ TMPDIR: tmp }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`npm run dev did not finish in 90 s:\n${output}`));
      }, 90_000);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/worker-1 owns \d(,\d)* · worker-2 owns \d(,\d)*; sending 200 events/);
    expect(output).toContain("stopping (every event processed)");
    expect(output).toMatch(/^total\s+200\s+196\s+4\s+\d+\s*$/m);
    expect(output).toContain("every sent event was processed or dead-lettered");
    expect(output).toContain("worker exit codes: worker-1=0, worker-2=0");
    // Progress is a few lines, not a log flood.
    expect(output.split("\n").filter((line) => line.startsWith("[")).length).toBeLessThan(20);
    // Its files go to one folder that the next run replaces, not to a new folder per run.
    expect(output).toContain(`written: ${join(tmp, "eventhubs-dev", "results.jsonl")}`);
    expect(readdirSync(tmp).filter((name) => name.startsWith("eventhubs-dev"))).toEqual(["eventhubs-dev"]);
    rmSync(tmp, { recursive: true, force: true });
  }, 100_000);

  it("names a bad flag as it was typed", async () => {
    const run = await runProgram("tools/dev.ts", ["--poison-every", "-1"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^ {2}- --poison-every: /m);
  });
});
