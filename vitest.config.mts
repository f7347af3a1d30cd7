import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that run longest, longest first (from a full run's per-file durations, side by side on 2 cores: 20-70 s each).
 * They start before the rest so that none of them is left running alone at the end. Vitest orders the other
 * files by their duration in its cache of the last run, and by size when there is none (a fresh clone).
 */
const LONGEST_FIRST = [
  "test/chaos/chaos.test.ts",
  "test/worker/e2e/model.test.ts",
  "test/interop/python-sdk.test.ts",
  "test/worker/e2e/tracing.test.ts",
  "test/worker/e2e/fleet.test.ts",
  "test/common/cli.test.ts",
  "test/worker/e2e/credentials.test.ts",
  "test/worker/processing/pool.test.ts",
  "test/worker/e2e/balancing.test.ts",
  "test/worker/e2e/hung-processor.test.ts",
  "test/worker/e2e/processing.test.ts",
  "test/tools/dev.test.ts",
  "test/worker/e2e/backlog.test.ts",
  "test/explorer/page.test.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return at === -1 ? LONGEST_FIRST.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files run side by side, each in a process of its own. Most of them wait on child processes, servers and
    // timers rather than compute, so more files than cores keep both cores of a CI runner busy.
    pool: "forks",
    maxWorkers: Math.max(4, availableParallelism()),
    sequence: { sequencer: LongestFirst },
    // Node's compile cache (V8's code for every module it compiles, on disk, where Node keeps it by default): the
    // test files' processes and the programs they start (workers, CLIs: tools/ts-child.ts passes it on) load the
    // same packages hundreds of times.
    env: { NODE_COMPILE_CACHE: join(tmpdir(), "node-compile-cache") },
  },
});
