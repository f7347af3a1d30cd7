// The explorer's quota history: bounded by age and count however long it samples, a deployment no live replica
// calls reads as nothing sent and no quota stated, and the last minute's fill is the mean of its samples.
import { describe, expect, it } from "vitest";
import type { DeploymentQuota, FleetQuota } from "../../explorer/model-quota";
import { QuotaHistory } from "../../explorer/quota-history";
import { HISTORY_MS, MAX_SAMPLES } from "../../explorer/quota-watch";

const use = (name: string, accepted: number, quota: number | null): DeploymentQuota => ({
  name, quotaRequestsPerSecond: quota, sentPerSecond: accepted + 1, acceptedPerSecond: accepted, throttledPerSecond: 1,
  fill: quota === null ? null : accepted / quota, circuits: { closed: 1, open: 0, "half-open": 0 }, replicas: [],
});
const fleet = (...deployments: DeploymentQuota[]): FleetQuota => ({ liveReplicas: 1, goneReplicas: 0, unreadableRecords: 0, deployments });

describe("quota history", () => {
  it("keeps the last minutes only, and at most MAX_SAMPLES of them", () => {
    const hour = 3_600_000;
    const sampleEvery = (ms: number) => {
      const history = new QuotaHistory(HISTORY_MS, MAX_SAMPLES);
      for (let at = 0; at <= hour; at += ms) history.add(at, fleet(use("primary", at / 1000, 10)));
      return history.series("primary").at;
    };
    const fast = sampleEvery(500); // faster than the explorer samples: the count bounds it
    expect(fast).toHaveLength(MAX_SAMPLES);
    expect(fast.at(-1)).toBe(hour);
    const slow = sampleEvery(2000); // slower: the age bounds it
    expect(slow[0]).toBe(hour - HISTORY_MS);
    expect(slow).toHaveLength(HISTORY_MS / 2000 + 1);
  });

  it("reads a deployment missing from a sample as nothing sent and no quota, and takes the last minute's mean fill", () => {
    const history = new QuotaHistory(HISTORY_MS, 1000);
    history.add(0, fleet(use("primary", 2, 10), use("spill", 1, null)));
    history.add(60_000, fleet(use("primary", 4, 10)));
    history.add(61_000, fleet(use("primary", 8, 10)));
    expect(history.names()).toEqual(["primary", "spill"]);
    expect(history.series("spill")).toEqual({ at: [0, 60_000, 61_000], accepted: [1, 0, 0], throttled: [1, 0, 0], sent: [2, 0, 0], quota: [null, null, null] });
    expect(history.fillSince("primary", 60_000, 10)).toBe(0.6);
    expect(history.fillSince("primary", 62_000, 10)).toBeNull();
    expect(history.fillSince("spill", 0, null)).toBeNull();
  });
});
