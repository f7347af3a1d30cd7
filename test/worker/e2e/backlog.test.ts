// A real worker process against the emulator + Azurite: backlog processed once with checkpoints written;
// SIGTERM drains, checkpoints and releases ownership; a restart resumes from the checkpoints.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { keysOf, readCheckpoints, readOwnership, sendToEveryPartition, fourPartitionHubs } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, key, WorkerFleet } from "../../support/worker-process";

let stack: LocalStack;
const workers = new WorkerFleet(() => stack.env());
const startWorker = (name: string, hub: string, env?: Record<string, string>) => workers.start(name, hub, env);

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("backlog", "restart") });
});
afterEach(async () => {
  await workers.disposeAll();
});
afterAll(async () => {
  await stack?.stop();
});

describe("worker on a 4-partition backlog", () => {
  it("processes every event exactly once and checkpoints each partition at its last event", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "backlog", 40);
    const worker = startWorker("backlog", "backlog", { CHECKPOINT_EVERY_EVENTS: "15", CHECKPOINT_EVERY_MS: "60000" });

    await waitFor("all 160 results", () => worker.results.length >= sent.length, 40_000, () => worker.describe());
    const lastPerPartition = new Map(["0", "1", "2", "3"].map((p) => [p, 39]));
    // Batches of 20 pass 15 events each time, so every batch checkpoints: the last one at sequence 39.
    await waitFor(
      "checkpoints at sequence 39",
      async () => {
        const checkpoints = await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "backlog");
        return [...lastPerPartition].every(([p, seq]) => checkpoints.get(p) === seq);
      },
      10_000,
      () => worker.describe(),
    );
    expect((await worker.status()).ownedPartitions).toEqual(["0", "1", "2", "3"]);

    const seen = worker.results.map((r) => key(r.partitionId, r.sequenceNumber));
    expect(new Set(seen).size).toBe(seen.length); // no duplicates in a clean run
    expect(new Set(seen)).toEqual(keysOf(sent));
    const first = worker.results.find((r) => r.partitionId === "2" && r.sequenceNumber === 5);
    expect(first).toMatchObject({ messageId: "p2-5", offset: expect.any(String), result: expect.anything() });

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });

  it("on SIGTERM drains, checkpoints durable progress and releases ownership; a restart resumes there", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "restart", 150);
    // Only the shutdown flush checkpoints in the first run: the schedule never comes due. Its processor is
    // slow after 30 events per partition, so the SIGTERM lands mid-backlog (about 24 s of work remain).
    const first = startWorker("first", "restart", {
      CHECKPOINT_EVERY_EVENTS: "100000",
      CHECKPOINT_EVERY_MS: "3600000",
      PROCESSOR: "test/support/slow-tail-processor.mjs",
    });
    await waitFor("some results", () => first.results.length >= 60, 40_000, () => first.describe());
    first.signal("SIGTERM");
    expect((await exitOf(first, 20_000)).code).toBe(0);
    expect(first.logs.some((l) => l.msg === "shutdown complete")).toBe(true);

    const ownership = await readOwnership(stack.storageConnectionString, stack.checkpointContainer, "restart");
    expect([...ownership.keys()].sort()).toEqual(["0", "1", "2", "3"]);
    expect([...ownership.values()]).toEqual(["", "", "", ""]);

    // The drain finished what was in flight, so each checkpoint is exactly the highest result written.
    const checkpoints = await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "restart");
    const highestWritten = new Map<string, number>();
    for (const r of first.results) highestWritten.set(r.partitionId, Math.max(highestWritten.get(r.partitionId) ?? -1, r.sequenceNumber));
    for (const [partition, highest] of highestWritten) expect(checkpoints.get(partition)).toBe(highest);
    expect(first.results.length).toBeLessThan(sent.length); // it really stopped mid-backlog

    const second = startWorker("second", "restart", { CHECKPOINT_EVERY_EVENTS: "50" });
    const remaining = sent.length - first.results.length;
    await waitFor("the rest of the backlog", () => second.results.length >= remaining, 40_000, () => second.describe());
    for (const r of second.results) expect(r.sequenceNumber).toBeGreaterThan(checkpoints.get(r.partitionId) ?? -1);
    const union = new Set([...first.results, ...second.results].map((r) => key(r.partitionId, r.sequenceNumber)));
    expect(union).toEqual(keysOf(sent));
    second.signal("SIGTERM");
    expect((await exitOf(second, 20_000)).code).toBe(0);
  });
});
