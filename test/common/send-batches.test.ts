// sendBatches against the real emulator through the real EventHubProducerClient: every event arrives, in
// order, in as many batches as the link's limit needs; an event too large for any batch is an error that
// names it, and nothing after it is sent behind the caller's back.
import { earliestEventPosition, type EventData, type EventHubConsumerClient, type EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EventTooLargeError, sendBatches } from "../../common/send-batches";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, producerFor, readEvents, startEmulator } from "../emulator/broker-helpers";

const PARTITIONS = ["0", "1", "2", "3"];
const kilobyteEvents = (count: number, prefix = "e"): EventData[] =>
  Array.from({ length: count }, (_, i) => ({ body: Buffer.alloc(1000, i % 26 + 97), messageId: `${prefix}-${i}` }));

describe("sendBatches", () => {
  // One emulator; each test sends to a hub of its own, so what a test counts is what it sent.
  let emulator: EventHubsEmulator;
  const clients: Array<EventHubProducerClient | EventHubConsumerClient> = [];
  const HUBS = ["order", "keys", "small", "huge", "first", "none"] as const;

  beforeAll(async () => {
    emulator = await startEmulator({ hubs: HUBS.map((name) => ({ name, partitionCount: PARTITIONS.length })) });
  });
  afterAll(() => emulator?.stop());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  const producerOf = (hub: (typeof HUBS)[number]) => {
    const producer = producerFor(emulator, hub);
    clients.push(producer);
    return producer;
  };

  /** Events stored per partition, from the partitions' sequence numbers. */
  const stored = async (producer: EventHubProducerClient): Promise<number[]> =>
    Promise.all(PARTITIONS.map(async (id) => (await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber + 1));

  it("sends every event to its partition, in order, in full batches under the 1 MB limit", async () => {
    const producer = producerOf("order");
    const events = kilobyteEvents(3000);
    const sent = await sendBatches(producer, events, { partitionId: "1" });
    // 3,000 events of 1,000 bytes do not fit in fewer than three 1 MB batches.
    expect(sent.events).toBe(3000);
    expect(sent.batches).toBeGreaterThanOrEqual(3);
    expect(await stored(producer)).toEqual([0, 3000, 0, 0]);
    const consumer = consumerFor(emulator, "$Default", "order");
    clients.push(consumer);
    const read = await readEvents(consumer, "1", { startPosition: earliestEventPosition, count: 3000, timeoutMs: 30_000 });
    expect(read.events.map((e) => e.messageId)).toEqual(events.map((e) => e.messageId));
  });

  it("keeps a partition key's events together and lets the service spread keyless ones", async () => {
    const producer = producerOf("keys");
    const keyed = await sendBatches(producer, kilobyteEvents(1500, "k"), { partitionKey: "customer-7" });
    expect(keyed.events).toBe(1500);
    const afterKeyed = await stored(producer);
    expect(afterKeyed.filter((count) => count > 0)).toEqual([1500]);

    const spread = await sendBatches(producer, kilobyteEvents(400, "s"));
    expect(spread).toEqual({ events: 400, batches: 1 });
    const total = (await stored(producer)).reduce((a, b) => a + b, 0);
    expect(total).toBe(1900);
  });

  it("honours a smaller batch size", async () => {
    const producer = producerOf("small");
    const progress: number[] = [];
    const sent = await sendBatches(producer, kilobyteEvents(100), { partitionId: "2", maxSizeInBytes: 10_000, onBatchSent: (n) => progress.push(n) });
    // At most nine 1,000-byte bodies (plus their framing) fit in 10,000 bytes.
    expect(sent.events).toBe(100);
    expect(sent.batches).toBeGreaterThanOrEqual(12);
    // Told after each stored batch how many events are stored so far: rising, one report a batch, ending at all.
    expect(progress).toHaveLength(sent.batches);
    expect(progress.every((n, i) => n > (progress[i - 1] ?? 0) && n - (progress[i - 1] ?? 0) <= 9)).toBe(true);
    expect(progress.at(-1)).toBe(100);
    expect(await stored(producer)).toEqual([0, 0, 100, 0]);
  });

  it("stops with an error naming an event too large for an empty batch; the events before it are stored, none after", async () => {
    const producer = producerOf("huge");
    const events = [...kilobyteEvents(3), { body: Buffer.alloc(1_100_000), messageId: "huge" }, ...kilobyteEvents(2, "after")];
    const failure = await sendBatches(producer, events, { partitionId: "0" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventTooLargeError);
    expect((failure as Error).message).toBe(
      'event 3 (body 1100000 bytes, messageId "huge") does not fit in an empty batch of at most 1048576 bytes; ' +
        "the 3 events before it were sent, it and the rest were not",
    );
    expect(await stored(producer)).toEqual([3, 0, 0, 0]);
  });

  it("sends nothing when the first event is too large", async () => {
    const producer = producerOf("first");
    const failure = await sendBatches(producer, [{ body: "x".repeat(1_100_000) }, ...kilobyteEvents(2)], { partitionId: "3" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: "EventTooLargeError", index: 0, bodyBytes: 1_100_000, sentBefore: 0 });
    expect(await stored(producer)).toEqual([0, 0, 0, 0]);
  });

  it("sends nothing for no events, and nothing once aborted", async () => {
    const producer = producerOf("none");
    expect(await sendBatches(producer, [], { partitionId: "0" })).toEqual({ events: 0, batches: 0 });
    const aborted = AbortSignal.abort();
    const failure = await sendBatches(producer, kilobyteEvents(5), { partitionId: "0", abortSignal: aborted }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: "AbortError" });
    expect(await stored(producer)).toEqual([0, 0, 0, 0]);
  });
});
