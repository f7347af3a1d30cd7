// How one deployment's quota is divided among the replicas: every replica computes the same division.
import { describe, expect, it } from "vitest";
import { divideQuota, QUOTA_TARGET } from "../../../worker/fleet/quota-shares";

const total = (shares: Map<string, number>) => [...shares.values()].reduce((a, b) => a + b, 0);

describe("dividing a quota", () => {
  it("splits it equally among replicas that all want more, a little under the quota", () => {
    const shares = divideQuota(20, ["a", "b", "c", "d"].map((replica) => ({ replica, used: 5, wanting: true })));
    expect([...shares.values()]).toEqual(Array(4).fill((20 * QUOTA_TARGET) / 4));
  });

  it("gives a replica that ran out of work what it uses, with headroom, and the rest to those that want more", () => {
    const shares = divideQuota(20, [
      { replica: "idle", used: 1, wanting: false },
      { replica: "busy-1", used: 6, wanting: true },
      { replica: "busy-2", used: 6, wanting: true },
    ]);
    expect(shares.get("idle")).toBeCloseTo(1.5, 9);
    expect(shares.get("busy-1")).toBeCloseTo((20 * QUOTA_TARGET - 1.5) / 2, 9);
    expect(shares.get("busy-2")).toBe(shares.get("busy-1"));
    expect(total(shares)).toBeCloseTo(20 * QUOTA_TARGET, 9);
  });

  it("keeps a floor for a replica that used nothing, so its first request goes at once", () => {
    const shares = divideQuota(20, [
      { replica: "new", used: 0, wanting: false },
      { replica: "busy", used: 19, wanting: true },
    ]);
    expect(shares.get("new")).toBeGreaterThan(0);
    expect(shares.get("new")).toBeLessThan(20 * 0.1);
    expect(total(shares)).toBeCloseTo(20 * QUOTA_TARGET, 9);
  });

  it("hands what nobody wants to everyone alike, and is the same whichever replica computes it", () => {
    const demands = [
      { replica: "b", used: 2, wanting: false },
      { replica: "a", used: 2, wanting: false },
    ];
    const one = divideQuota(20, demands);
    const other = divideQuota(20, [...demands].reverse());
    expect(one).toEqual(other);
    expect(one.get("a")).toBeCloseTo((20 * QUOTA_TARGET) / 2, 9);
  });
});
