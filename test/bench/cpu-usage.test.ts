// The benchmark's CPU accounting reads /proc: a real child process burns a known amount of CPU (by its own
// process.cpuUsage) inside a window, and the window's cost read from outside must match it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { CpuWatch, readMachineCpu, readProcessCpuSeconds } from "../../bench/cpu-usage";
import { waitFor } from "../../tools/wait-for";

const BURN_SECONDS = 0.3;
// Says it is ready, waits for a line on stdin, burns BURN_SECONDS of its own CPU time, says so, then idles
// until stdin closes.
const CHILD = `process.stdout.write("ready\\n");
process.stdin.once("data", () => {
  const from = process.cpuUsage();
  while (true) { const { user, system } = process.cpuUsage(from); if (user + system >= ${BURN_SECONDS * 1e6}) break; }
  process.stdout.write("done\\n");
});`;

describe.runIf(process.platform === "linux")("benchmark CPU accounting", () => {
  it("charges a window with the CPU time its process spent in it, and reads the machine's idle share", async () => {
    const child = spawn(process.execPath, ["-e", CHILD], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await waitFor("the child to start", () => output.includes("ready"), 30_000);
      expect(readProcessCpuSeconds(child.pid!)).toBeGreaterThan(0);
      const watch = new CpuWatch(child.pid!, 20);
      try {
        watch.sample();
        const from = performance.now();
        child.stdin.write("go\n");
        await waitFor("the child to burn its CPU time", () => output.includes("done"), 30_000);
        const to = performance.now();
        watch.sample();
        const { cpuSeconds, machineIdleShare } = watch.between(from, to);
        // /proc counts in 10 ms ticks; the window also holds the child's reading of stdin and its write.
        expect(cpuSeconds).toBeGreaterThanOrEqual(BURN_SECONDS - 0.03);
        expect(cpuSeconds).toBeLessThan(BURN_SECONDS + 0.2);
        expect(machineIdleShare).toBeGreaterThanOrEqual(0);
        expect(machineIdleShare).toBeLessThanOrEqual(1);
        // Outside what the samples cover, the cost is unknown rather than guessed.
        expect(watch.between(from, performance.now() + 60_000).cpuSeconds).toBeNaN();
      } finally {
        watch.stop();
      }
    } finally {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    }
    expect(readProcessCpuSeconds(child.pid!)).toBeUndefined();
    const machine = readMachineCpu();
    expect(machine && machine.busy + machine.idle).toBeGreaterThan(0);
  });
});
