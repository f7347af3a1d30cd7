// Which claims the SDK's load balancer proposes are made, on a clock the test moves.
import type { PartitionOwnership } from "@azure/event-hubs";
import { describe, expect, it } from "vitest";
import { ClaimPolicy, type FleetView } from "../../../worker/fleet/claim-policy";

const UPDATE_MS = 1000;
const EXPIRATION_MS = 5000;
const HANDOVER_TIMEOUT_MS = 30_000;

function setUp(live: string[], coordinated = true) {
  const clock = { now: 100_000 };
  const fleet: FleetView = { coordinated: () => coordinated, liveReplicas: () => live.length };
  const policy = new ClaimPolicy({
    replica: "me", fleet, partitionCount: 4, ownershipExpirationMs: EXPIRATION_MS, updateIntervalMs: UPDATE_MS,
    handoverTimeoutMs: HANDOVER_TIMEOUT_MS, now: () => clock.now,
  });
  const ownership = (partitionId: string, ownerId: string, ageMs = 0): PartitionOwnership => ({
    fullyQualifiedNamespace: "ns", eventHubName: "events", consumerGroup: "ai-workers", partitionId, ownerId,
    lastModifiedTimeInMs: clock.now - ageMs, etag: "e",
  });
  const request = (partitionId: string) => ownership(partitionId, "me");
  return { clock, policy, ownership, request };
}

describe("claim policy", () => {
  it("asks a live owner to hand a partition over instead of stealing it, and steals only after the hand-over timeout", () => {
    const { clock, policy, ownership, request } = setUp(["me", "other"]);
    expect(policy.decide(request("2"), ownership("2", "other"), 1)).toBe("refuse");
    expect(policy.wants()).toEqual(["2"]);
    clock.now += HANDOVER_TIMEOUT_MS - 1;
    expect(policy.decide(request("2"), ownership("2", "other"), 1)).toBe("refuse");
    clock.now += 1;
    expect(policy.decide(request("2"), ownership("2", "other"), 1)).toBe("steal");
  });

  it("claims a partition its owner released, and forgets the request", () => {
    const { policy, ownership, request } = setUp(["me", "other"]);
    policy.decide(request("2"), ownership("2", "other"), 1);
    expect(policy.decide(request("2"), ownership("2", ""), 1)).toBe("claim");
    expect(policy.wants()).toEqual([]);
  });

  it("steals at once when the fleet is not coordinated", () => {
    const uncoordinated = setUp(["me", "other"], false);
    expect(uncoordinated.policy.decide(uncoordinated.request("1"), uncoordinated.ownership("1", "other"), 3)).toBe("steal");
  });

  it("claims unowned partitions up to its fair share of the fleet, then only those left unowned for a while", () => {
    const { clock, policy, ownership, request } = setUp(["me", "b", "c", "d"]); // 4 partitions, 4 replicas: one each
    expect(policy.decide(request("0"), undefined, 0)).toBe("claim");
    expect(policy.decide(request("1"), undefined, 1)).toBe("refuse");
    expect(policy.decide(request("2"), ownership("2", "gone", EXPIRATION_MS), 1)).toBe("refuse"); // expired counts as unowned
    clock.now += 2 * UPDATE_MS;
    expect(policy.decide(request("1"), undefined, 1)).toBe("claim"); // nobody else took it
  });

  it("renews what it owns, and does not claim back a partition it released", () => {
    const { clock, policy, ownership, request } = setUp(["me", "other"]);
    expect(policy.decide(request("3"), ownership("3", "me"), 2)).toBe("renew");
    policy.released("3");
    expect(policy.decide(request("3"), ownership("3", ""), 1)).toBe("refuse");
    clock.now += 2 * UPDATE_MS + EXPIRATION_MS;
    expect(policy.decide(request("3"), ownership("3", ""), 1)).toBe("claim");
  });
});
