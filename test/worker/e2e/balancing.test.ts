// Several real worker processes in one consumer group: partitions split between them, and a worker killed
// with kill -9 has its partitions taken over with nothing lost.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { keysOf, readCheckpoints, readOwnership, sendToEveryPartition, fourPartitionHubs } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, key, type TestWorker, WorkerFleet } from "../../support/worker-process";

let stack: LocalStack;
const workers = new WorkerFleet(() => stack.env());
const startWorker = (name: string, hub: string, env?: Record<string, string>) => workers.start(name, hub, env);

async function ownersOf(hub: string): Promise<Map<string, string>> {
  return readOwnership(stack.storageConnectionString, stack.checkpointContainer, hub);
}

/**
 * Starts `a`, waits until it owns all 4, then starts `b`, which takes two of them over. Two workers started
 * together both claim the same new partitions, and on a loaded machine that churn can outlast a 2/2 check.
 */
async function startSplitPair(hub: string, env?: Record<string, string>): Promise<[TestWorker, TestWorker]> {
  const a = startWorker("a", hub, env);
  await a.started(60_000);
  await waitFor("a to own all 4", async () => (await a.status()).ownedPartitions.length === 4, 60_000, () => a.describe());
  const b = startWorker("b", hub, env);
  await b.started(60_000);
  await waitFor("a 2/2 split", () => splitTwoTwo(hub, a, b), 60_000, () => `${a.describe()}\n${b.describe()}`);
  return [a, b];
}

/** Both workers own two partitions each, per the ownership blobs and their own /status. */
async function splitTwoTwo(hub: string, a: TestWorker, b: TestWorker): Promise<boolean> {
  const owners = [...(await ownersOf(hub)).values()];
  const [statusA, statusB] = await Promise.all([a.status(), b.status()]);
  const count = (id: string | undefined) => owners.filter((o) => o === id).length;
  return (
    statusA.ownerId !== undefined && statusB.ownerId !== undefined &&
    count(statusA.ownerId) === 2 && count(statusB.ownerId) === 2 &&
    statusA.ownedPartitions.length === 2 && statusB.ownedPartitions.length === 2
  );
}

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("split", "crash") });
});
afterEach(async () => {
  await workers.disposeAll();
});
afterAll(async () => {
  await stack?.stop();
});

describe("load balancing across worker processes", () => {
  it("two workers split 4 partitions 2/2 and each processes only its own", async () => {
    const [a, b] = await startSplitPair("split");
    const describe = () => `${a.describe()}\n${b.describe()}`;
    // Empty partitions got a checkpoint before their first event (for KEDA); whoever took a partition over
    // from the other worker started from it.
    const initial = await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "split");
    expect([...initial.entries()].sort()).toEqual([["0", -1], ["1", -1], ["2", -1], ["3", -1]]);

    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "split", 25);
    await waitFor("every event processed", () => keysOf([...a.results, ...b.results]).size === sent.length, 30_000, describe);
    expect(keysOf([...a.results, ...b.results])).toEqual(keysOf(sent));
    // Each worker processed only partitions it owned at some point (per its own ownership log lines).
    const partitionsOf = (w: TestWorker) => [...new Set(w.results.map((r) => r.partitionId))].sort();
    const everOwned = (w: TestWorker) => new Set(w.logs.flatMap((l) => (Array.isArray(l.ownedPartitions) ? (l.ownedPartitions as string[]) : [])));
    for (const w of [a, b]) for (const partition of partitionsOf(w)) expect(everOwned(w)).toContain(partition);
    const [statusA, statusB] = await Promise.all([a.status(), b.status()]);
    expect(new Set([...statusA.ownedPartitions, ...statusB.ownedPartitions]).size).toBe(4);

    a.signal("SIGTERM");
    b.signal("SIGTERM");
    expect((await exitOf(a, 20_000)).code).toBe(0);
    expect((await exitOf(b, 20_000)).code).toBe(0);
  });

  it("kill -9 of one worker: the other takes over its partitions and nothing is lost", async () => {
    // Slow enough (10 ms per event) that the crash lands mid-backlog; checkpoints every 10 events.
    const env = { MAX_BATCH_SIZE: "5", CHECKPOINT_EVERY_EVENTS: "10", PROCESSOR: "test/support/slow-processor.mjs" };
    const [a, b] = await startSplitPair("crash", env);
    const describe = () => `${a.describe()}\n${b.describe()}`;

    // 200 events a partition: at 10 ms each the victim needs 2 s for its partitions, far more than the crash takes to land.
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "crash", 200);
    await waitFor("the victim to be mid-backlog", () => a.results.length >= 20, 30_000, describe);
    a.crash();
    const exit = await exitOf(a, 10_000);
    expect(exit.code === 137 || exit.signal === "SIGKILL" || exit.code === 1).toBe(true);
    const processedByVictim = a.results.length;
    expect(processedByVictim).toBeLessThan(400); // it had not finished its partitions

    // The survivor claims the victim's partitions once their ownership expires (5 s) and replays them
    // from their checkpoints: at least once, so duplicates are allowed, gaps are not.
    await waitFor("every event processed", () => keysOf([...a.results, ...b.results]).size === sent.length, 60_000, describe);
    expect(keysOf([...a.results, ...b.results])).toEqual(keysOf(sent));
    // Whatever the victim had not checkpointed, the survivor processed (the keys above); here: it took the partitions.
    await waitFor("the survivor to own all 4", async () => (await b.status()).ownedPartitions.length === 4, 10_000, describe);
    const owners = await ownersOf("crash");
    const survivor = (await b.status()).ownerId;
    expect([...owners.values()].every((o) => o === survivor)).toBe(true);

    b.signal("SIGTERM");
    expect((await exitOf(b, 20_000)).code).toBe(0);
    const all = [...a.results, ...b.results].map((r) => key(r.partitionId, r.sequenceNumber));
    expect(all.length).toBeGreaterThanOrEqual(sent.length);
  });
});
