// Idle, then burst (azure-sdk-for-js #39452): the worker idles on an empty hub for 50 max-wait periods
// (MAX_WAIT_MS=100 for 5 s), so the SDK has granted the service up to 50 x prefetch credits per
// partition, then 10,000 events arrive at once. Every event must get a result, and the real worker
// process's resident memory must stay bounded: the worker command caps V8's heaps, so the peak stays near
// 300 MB (`npm run bench` reports the figure); 500 MB leaves room for a loaded machine, not for runaway growth.
import { describe, expect, it } from "vitest";
import { runIdleBurst } from "../../bench/scenarios/idle-burst";

const MB = 1024 * 1024;

describe("idle, then burst", () => {
  it("processes every event of a burst after a long idle, with bounded memory", async () => {
    const run = await runIdleBurst({ idleSeconds: 5, burstPerPartition: 2500, timeLimitMs: 60_000, workerEnv: { MAX_WAIT_MS: "100" } });
    expect(run.idlePeriods).toBe(50);
    expect(run.burstEvents).toBe(10_000);
    expect(run.lost, JSON.stringify(run)).toBe(0);
    expect(run.distinctResults).toBe(run.burstEvents);
    expect(run.rssBeforeBurstBytes).toBeGreaterThan(0);
    expect(run.peakRssBytes / MB, JSON.stringify(run)).toBeLessThan(500);
  }, 120_000);
});
