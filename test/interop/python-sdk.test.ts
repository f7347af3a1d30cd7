// Microsoft's Python SDK (azure-eventhub 5.15.1, pure-Python pyamqp transport) against the emulator and
// its Azurite, in real python3 processes: properties, sends by key, partition and batch, receiving from
// every start position, the blob checkpoint store, a refused key, and a Python producer feeding the worker.
import { EventHubConsumerClient, EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { waitFor } from "../../tools/wait-for";
import { exitOf, WorkerFleet } from "../support/worker-process";
import { assertInstalled, probePythonClients, PythonProcess, runPython, shouldRun } from "./python-clients";

const clients = probePythonClients();
const HUB = "pyevents";
const WORKER_HUB = "pyworker";
const CHECKPOINT_HUB = "pycheckpoints";
const CONSUMER_GROUP = "ai-workers";

interface PyEvent {
  partition: string;
  body: string;
  sequence_number: number;
  offset: string;
  enqueued_time: number;
  partition_key: string | null;
  properties: Record<string, unknown>;
  offset_type: string;
  sequence_number_type: string;
}

describe.runIf(shouldRun(clients, "Python SDK interop"))(`Python SDK interop (${clients.summary})`, () => {
  let stack: LocalStack;
  const workers = new WorkerFleet(() => stack.env());
  const env = (hub = HUB, extra: Record<string, string> = {}) => ({
    EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString,
    EVENTHUB_NAME: hub,
    STORAGE_CONNECTION_STRING: stack.storageConnectionString,
    CHECKPOINT_CONTAINER: stack.checkpointContainer,
    ...extra,
  });
  const python = (args: string[], hub = HUB) => runPython("eventhub_client.py", args, env(hub));
  const receive = async (partition: string, start: string, count: number, extra: string[] = []) =>
    (await python(["receive", "--partition", partition, "--start", start, "--count", String(count), "--timeout", "30", ...extra])).values<PyEvent>("event");

  beforeAll(async () => {
    assertInstalled(clients);
    stack = await startLocalStack({
      config: { hubs: [HUB, WORKER_HUB, CHECKPOINT_HUB].map((name) => ({ name, partitionCount: 4, consumerGroups: [CONSUMER_GROUP] })) },
    });
  });
  afterAll(async () => {
    await workers.disposeAll();
    await stack?.stop();
  });

  it("reads hub and partition properties", async () => {
    const run = await python(["properties"]);
    const [first] = run.lines;
    expect(first).toMatchObject({ version: "5.15.1", hub: { eventhub_name: HUB, partition_ids: ["0", "1", "2", "3"] } });
    expect(run.values("partition")).toEqual(
      ["0", "1", "2", "3"].map((id) => expect.objectContaining({ eventhub_name: HUB, id, is_empty: true, last_enqueued_offset: "-1" })),
    );
  });

  it("sends by partition key, partition id and in batches, where Azure would put them", async () => {
    // "user-42" hashes to partition 3 of 4 (lookup3, as on Azure).
    const keyed = await python(["send", "--key", "user-42", "--count", "3", "--prefix", "key-batch"]);
    expect(keyed.values("sent")).toEqual([3]);
    expect(keyed.values("max_size_in_bytes")).toEqual([1048576]);
    await python(["send", "--mode", "event", "--key", "user-42", "--count", "2", "--prefix", "key-event"]);
    await python(["send", "--mode", "event", "--partition", "2", "--count", "2", "--prefix", "pid-event"]);
    // 3,000 events of ~1 KB do not fit one 1 MB batch: the SDK splits them by the link's max-message-size.
    const big = await python(["send", "--partition", "1", "--count", "3000", "--prefix", "x".repeat(1000)]);
    expect(big.values<number>("batches")[0]).toBeGreaterThan(1);

    const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
    try {
      const last = async (id: string) => (await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber;
      expect([await last("0"), await last("1"), await last("2"), await last("3")]).toEqual([-1, 2999, 1, 4]);
    } finally {
      await producer.close();
    }
    const keyedEvents = await receive("3", "earliest", 5);
    expect(keyedEvents.map((e) => e.body)).toEqual(["key-batch-0", "key-batch-1", "key-batch-2", "key-event-0", "key-event-1"]);
    expect(keyedEvents.every((e) => e.partition_key === "user-42")).toBe(true);
    expect(keyedEvents[3]?.properties).toEqual({ source: "python", index: "key-event-0" });
    // Azure's types: sequence numbers are longs, offsets strings.
    expect(keyedEvents.map((e) => [e.sequence_number_type, e.offset_type])).toEqual(Array(5).fill(["int", "str"]));
  });

  it("receives from every start position: earliest, sequence number, offset, enqueued time and latest", async () => {
    const all = await receive("3", "earliest", 5);
    expect(all.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4]);
    const third = all[2]!;
    expect((await receive("3", `sequence:${third.sequence_number}`, 2)).map((e) => e.sequence_number)).toEqual([3, 4]);
    expect((await receive("3", `sequence:${third.sequence_number}`, 3, ["--inclusive"])).map((e) => e.sequence_number)).toEqual([2, 3, 4]);
    expect((await receive("3", `offset:${third.offset}`, 2)).map((e) => e.sequence_number)).toEqual([3, 4]);
    expect((await receive("3", `offset:${third.offset}`, 3, ["--inclusive"])).map((e) => e.sequence_number)).toEqual([2, 3, 4]);
    const beforeKeyEvents = all[3]!.enqueued_time - 1;
    expect((await receive("3", `time:${beforeKeyEvents}`, 2)).map((e) => e.body)).toEqual(["key-event-0", "key-event-1"]);

    // latest: only what arrives after the reader attached
    const reader = new PythonProcess("eventhub_client.py", ["receive", "--partition", "3", "--start", "latest", "--count", "1", "--timeout", "60"], env());
    try {
      await waitFor("the Python reader's link", () => stack.emulator.stats().consumerLinks >= 1, 30_000, () => reader.describe());
      const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
      await producer.sendBatch([{ body: Buffer.from("after-latest") }], { partitionId: "3" }).finally(() => producer.close());
      await reader.finished(60_000);
      expect(reader.values<PyEvent>("event").map((e) => [e.body, e.sequence_number])).toEqual([["after-latest", 5]]);
    } finally {
      reader.kill();
    }
  }, 120_000);

  it("consumes with the Python BlobCheckpointStore on the emulator's Azurite and checkpoints every partition", async () => {
    const counts = [3, 1, 4, 2];
    for (const [id, count] of counts.entries()) await python(["send", "--partition", String(id), "--count", String(count)], CHECKPOINT_HUB);
    const total = counts.reduce((a, b) => a + b, 0);
    const run = await python(["consume-with-checkpoints", "--consumer-group", CONSUMER_GROUP, "--count", String(total), "--timeout", "60"], CHECKPOINT_HUB);
    expect(run.values("done")).toEqual([total]);

    // The Python SDK writes its blob prefix with the port (`127.0.0.1:<port>`); the JS SDK without it.
    const listed = await python(["list-checkpoints", "--consumer-group", CONSUMER_GROUP, "--namespace", `127.0.0.1:${stack.eventHubsPort}`], CHECKPOINT_HUB);
    const checkpoints = new Map(listed.values<{ partition_id: string; sequence_number: number }>("checkpoint").map((c) => [c.partition_id, c.sequence_number]));
    expect(checkpoints).toEqual(new Map(counts.map((count, id) => [String(id), count - 1])));
  }, 120_000);

  it("refuses a wrong key with an authentication error", async () => {
    const run = await python(["wrong-key"]);
    expect(run.values("error")).toEqual(["AuthenticationError"]);
  });

  it("feeds `npm run worker` from a Python producer; the Python checkpoint store reads the worker's checkpoints", async () => {
    const perPartition = 10;
    for (const id of ["0", "1", "2", "3"]) {
      const text = JSON.stringify({ text: `python event for partition ${id}: my order arrived late, please call me.` });
      await runPython("eventhub_client.py", ["send", "--partition", id, "--count", String(perPartition), "--prefix", text], env(WORKER_HUB));
    }
    const worker = workers.start("python-fed", WORKER_HUB, { CHECKPOINT_EVERY_EVENTS: "5" });
    await waitFor("every Python event processed", () => worker.results.length >= 4 * perPartition, 60_000, () => worker.describe());
    expect(new Set(worker.results.map((r) => `${r.partitionId}/${r.sequenceNumber}`)).size).toBe(4 * perPartition);

    // The worker (JS SDK) writes under `127.0.0.1/<hub>/<group>/checkpoint/<id>`; Python reads the same layout.
    const lastSequence = perPartition - 1;
    const readByPython = async () => {
      const run = await runPython("eventhub_client.py", ["list-checkpoints", "--consumer-group", CONSUMER_GROUP, "--namespace", "127.0.0.1"], env(WORKER_HUB));
      return run.values<{ partition_id: string; sequence_number: number; offset: string }>("checkpoint");
    };
    let checkpoints: Awaited<ReturnType<typeof readByPython>> = [];
    await waitFor("checkpoints at the last event of every partition", async () => {
      checkpoints = await readByPython();
      return checkpoints.length === 4 && checkpoints.every((c) => c.sequence_number === lastSequence);
    }, 30_000, () => JSON.stringify(checkpoints));
    expect(checkpoints.map((c) => c.partition_id).sort()).toEqual(["0", "1", "2", "3"]);
    expect(checkpoints.every((c) => typeof c.offset === "string")).toBe(true);

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  }, 150_000);

  it("a JS consumer reads what Python sent byte for byte (same bodies, properties and keys)", async () => {
    const consumer = new EventHubConsumerClient("$Default", stack.eventHubConnectionString, HUB);
    try {
      const events = await new Promise<Array<{ body: unknown; properties?: Record<string, unknown>; partitionKey?: string | null }>>((resolve, reject) => {
        const got: Array<{ body: unknown; properties?: Record<string, unknown>; partitionKey?: string | null }> = [];
        const subscription = consumer.subscribe(
          "2",
          {
            processEvents: async (batch) => {
              got.push(...batch);
              if (got.length >= 2) void subscription.close().then(() => resolve(got));
            },
            processError: async (err) => reject(err),
          },
          { startPosition: { offset: "-1" }, maxWaitTimeInSeconds: 1 },
        );
      });
      expect(events.map((e) => String(e.body))).toEqual(["pid-event-0", "pid-event-1"]);
      expect(events[0]?.properties).toEqual({ source: "python", index: "pid-event-0" });
    } finally {
      await consumer.close();
    }
  });
});
