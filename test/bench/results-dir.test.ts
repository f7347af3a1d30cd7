// Only the reference runs write to bench/results/ (the committed results); --quick, a subset or other sizes go to
// bench/results/scratch/ unless --out names a directory.
import { describe, expect, it } from "vitest";
import { parseChaosOptions } from "../../bench/chaos/options";
import { parseBenchOptions } from "../../bench/options";
import { RESULTS_DIR, SCRATCH_DIR, resultsDirectory } from "../../bench/results-dir";

describe("benchmark results directory", () => {
  it("keeps bench/results for the reference run of npm run bench and sends every other run to scratch", () => {
    expect(parseBenchOptions([]).outDir).toBe(RESULTS_DIR);
    expect(parseBenchOptions(["--quick"]).outDir).toBe(SCRATCH_DIR);
    expect(parseBenchOptions(["--runs", "1", "--text", "varied"]).outDir).toBe(SCRATCH_DIR);
    expect(parseBenchOptions(["--quick", "--out", "bench/results"]).outDir).toBe(RESULTS_DIR);
  });

  it("does the same for npm run chaos, whose reference is the documented 120 s run", () => {
    const reference = ["--duration", "120", "--workers", "3", "--rate", "200", "--faults", "all", "--fault-interval", "5"];
    expect(parseChaosOptions(reference).outDir).toBe(RESULTS_DIR);
    expect(parseChaosOptions([]).outDir).toBe(SCRATCH_DIR);
    expect(parseChaosOptions([...reference.slice(0, 6), "--faults", "kill9"]).outDir).toBe(SCRATCH_DIR);
    expect(parseChaosOptions(["--out", "/tmp/chaos"]).outDir).toBe("/tmp/chaos");
  });

  it("compares only the options the reference names, by value", () => {
    const reference = { runs: 3, only: undefined, faults: ["a", "b"] };
    expect(resultsDirectory(undefined, { runs: 3, faults: ["a", "b"], other: 1 }, reference)).toBe(RESULTS_DIR);
    expect(resultsDirectory(undefined, { runs: 3, only: ["x"], faults: ["a", "b"] }, reference)).toBe(SCRATCH_DIR);
    expect(resultsDirectory(undefined, { runs: 3, faults: ["b", "a"] }, reference)).toBe(SCRATCH_DIR);
  });
});
