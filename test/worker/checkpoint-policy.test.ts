import type { Checkpoint, CheckpointStore, PartitionOwnership } from "@azure/event-hubs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { CheckpointPolicy, PartitionCheckpointer } from "../../worker/checkpoint-policy";
import { OwnershipTracker } from "../../worker/ownership-tracker";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

const scope = { fullyQualifiedNamespace: "ns", eventHubName: "events", consumerGroup: "ai-workers", partitionId: "0" };
const at = (sequenceNumber: number) => ({ sequenceNumber, offset: String(sequenceNumber * 100) });

/** A checkpoint store in memory, with the same unconditional-write semantics as BlobCheckpointStore. */
class MemoryStore implements Pick<CheckpointStore, "listCheckpoints" | "updateCheckpoint"> {
  readonly checkpoints = new Map<string, Checkpoint>();
  readonly writes: number[] = [];
  failuresLeft = 0;
  async listCheckpoints(): Promise<Checkpoint[]> {
    return [...this.checkpoints.values()];
  }
  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("storage unavailable");
    }
    this.writes.push(checkpoint.sequenceNumber);
    this.checkpoints.set(checkpoint.partitionId, checkpoint);
  }
}

function checkpointer(store: MemoryStore, options: { owner?: () => boolean; now?: () => number } = {}) {
  return new PartitionCheckpointer({
    scope,
    store,
    schedule: { everyEvents: 10, everyMs: 1000 },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    isOwner: options.owner ?? (() => true),
    metrics: new WorkerMetrics(),
    logger: pino({ level: "silent" }),
    now: options.now ?? (() => 0),
  });
}

describe("CheckpointPolicy", () => {
  it("is due after N durable events or T ms, whichever comes first", () => {
    const policy = new CheckpointPolicy({ everyEvents: 10, everyMs: 1000 }, 0);
    expect(policy.isDue(5000)).toBe(false); // no progress: nothing to checkpoint however long it waited
    policy.recordDurable(at(8), 9);
    expect(policy.isDue(999)).toBe(false);
    expect(policy.isDue(1000)).toBe(true); // T reached first
    policy.markCheckpointed(at(8), 1000);
    policy.recordDurable(at(18), 10);
    expect(policy.isDue(1001)).toBe(true); // N reached first
    policy.markCheckpointed(at(18), 1001);
    expect(policy.isDue(9999)).toBe(false);
  });

  it("never offers a position at or below a known checkpoint", () => {
    const policy = new CheckpointPolicy({ everyEvents: 1, everyMs: 1000 }, 0);
    policy.observeExisting(at(50)); // a previous owner got further
    policy.recordDurable(at(40), 5);
    expect(policy.pending()).toBeUndefined();
    expect(policy.isBehind()).toBe(true);
    policy.recordDurable(at(30), 5); // out-of-order report: durable progress never moves back either
    policy.recordDurable(at(51), 1);
    expect(policy.pending()).toEqual(at(51));
  });
});

describe("PartitionCheckpointer", () => {
  it("writes durable progress on schedule and skips writes that would go backwards", async () => {
    const store = new MemoryStore();
    let now = 0;
    const cp = checkpointer(store, { now: () => now });
    cp.recordDurable(at(4), 5);
    expect(await cp.checkpointIfDue()).toBe("nothing_pending");
    cp.recordDurable(at(9), 5);
    expect(await cp.checkpointIfDue()).toBe("written");
    expect(store.writes).toEqual([9]);

    // Another owner advances the checkpoint; ownership is regained and the stored checkpoint read again.
    store.checkpoints.set("0", { ...scope, ...at(40) });
    expect(await cp.loadStoredCheckpoint()).toEqual(at(40));
    cp.recordDurable(at(19), 10);
    expect(await cp.checkpointIfDue()).toBe("skipped_backwards");
    now = 5000;
    cp.recordDurable(at(41), 1);
    expect(await cp.checkpointIfDue()).toBe("written");
    expect(store.writes).toEqual([9, 41]);
    expect(store.checkpoints.get("0")?.sequenceNumber).toBe(41);
  });

  it("does not write once the partition is owned by someone else", async () => {
    const store = new MemoryStore();
    let owner = true;
    const cp = checkpointer(store, { owner: () => owner });
    cp.recordDurable(at(20), 21);
    owner = false;
    expect(await cp.flush()).toBe("skipped_not_owner");
    expect(store.writes).toEqual([]);
    owner = true;
    expect(await cp.flush()).toBe("written");
    expect(store.writes).toEqual([20]);
  });

  it("retries a failing write, and reports failure without throwing when retries run out", async () => {
    const store = new MemoryStore();
    const cp = checkpointer(store);
    store.failuresLeft = 2;
    cp.recordDurable(at(3), 4);
    expect(await cp.flush()).toBe("written");
    store.failuresLeft = 10;
    cp.recordDurable(at(7), 4);
    expect(await cp.flush()).toBe("failed");
    store.failuresLeft = 0;
    expect(await cp.flush()).toBe("written"); // the progress is kept and written on the next chance
    expect(store.writes).toEqual([3, 7]);
  });

  it("serialises concurrent flushes: one write per position", async () => {
    const store = new MemoryStore();
    const cp = checkpointer(store);
    cp.recordDurable(at(5), 6);
    const results = await Promise.all([cp.flush(), cp.flush(), cp.flush()]);
    expect(results.filter((r) => r === "written")).toHaveLength(1);
    expect(store.writes).toEqual([5]);
  });
});

describe("OwnershipTracker", () => {
  const ownership = (partitionId: string, ownerId: string): PartitionOwnership => ({
    fullyQualifiedNamespace: "ns", eventHubName: "events", consumerGroup: "ai-workers", partitionId, ownerId,
  });

  function trackerWith(claimable: Set<string>, listed: PartitionOwnership[], clock: { now: number }) {
    const inner: CheckpointStore = {
      listOwnership: async () => listed,
      claimOwnership: async (requests) => requests.filter((r) => claimable.has(r.partitionId)),
      listCheckpoints: async () => [],
      updateCheckpoint: async () => undefined,
    };
    return new OwnershipTracker(inner, 5000, () => clock.now);
  }

  it("follows claims, failed renewals, other owners in listings, expiry and abandonment", async () => {
    const clock = { now: 0 };
    const listed: PartitionOwnership[] = [];
    const tracker = trackerWith(new Set(["0", "1", "2"]), listed, clock);
    const changes: string[][] = [];
    tracker.onChange((owned) => changes.push(owned));

    await tracker.claimOwnership([ownership("0", "me"), ownership("1", "me"), ownership("3", "me")]);
    expect(tracker.id).toBe("me");
    expect(tracker.ownedPartitions()).toEqual(["0", "1"]);

    listed.push(ownership("1", "other"));
    await tracker.listOwnership("ns", "events", "ai-workers");
    expect(tracker.isOwner("1")).toBe(false);
    expect(tracker.isOwner("0")).toBe(true);

    clock.now = 6000; // renewal did not happen within the expiration interval
    expect(tracker.isOwner("0")).toBe(false);
    await tracker.claimOwnership([ownership("0", "me")]);
    expect(tracker.isOwner("0")).toBe(true);

    await tracker.claimOwnership([ownership("0", "")]); // the SDK abandons on close
    expect(tracker.ownedPartitions()).toEqual([]);
    // Expiry alone is noticed on the next claim or listing (the SDK renews every update interval).
    expect(changes).toEqual([["0", "1"], ["0"], ["0"], []]);
  });

  it("says why a partition is not ours: another owner seen, or renewals failing with no other worker", async () => {
    const clock = { now: 0 };
    const listed: PartitionOwnership[] = [];
    const tracker = trackerWith(new Set(["0", "1"]), listed, clock);
    await tracker.claimOwnership([ownership("0", "me"), ownership("1", "me")]);
    listed.push(ownership("1", "other"));
    await tracker.listOwnership("ns", "events", "ai-workers");
    expect(tracker.whyNotOwner("1")).toBe("worker other owns it now");
    clock.now = 6000; // a storage outage: no renewal, and no other worker anywhere
    expect(tracker.isOwner("0")).toBe(false);
    expect(tracker.whyNotOwner("0")).toBe(
      "this worker could not renew its ownership for 6000 ms (expiration 5000 ms; is storage reachable?), so another worker may take it over",
    );
  });
});
