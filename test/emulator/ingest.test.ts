// Sending through the real EventHubProducerClient: every send mode, partition choice (targets, the
// Azure key hash, round-robin), whole batches, the 1 MB limit, refused entities and send faults.
import {
  EventHubBufferedProducerClient,
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
} from "@azure/event-hubs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, errorCode, HUB, producerFor, readEvents, retryOptions, startEmulator } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

describe("broker ingest", () => {
  let emulator: EventHubsEmulator;
  let producer: EventHubProducerClient;
  let consumer: EventHubConsumerClient;

  beforeEach(async () => {
    emulator = await startEmulator();
    producer = producerFor(emulator);
    consumer = consumerFor(emulator);
  });
  afterEach(async () => {
    await consumer?.close();
    await producer?.close();
    await emulator?.stop();
  });

  const lastSequenceNumbers = async (): Promise<number[]> =>
    Promise.all(["0", "1", "2", "3"].map(async (id) => (await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber));

  const bodiesIn = async (partitionId: string, count: number): Promise<unknown[]> =>
    (await readEvents(consumer, partitionId, { startPosition: earliestEventPosition, count })).events.map((e) => e.body);

  it("stores a single event sent to a partition", async () => {
    await producer.sendBatch([{ body: { n: 1 } }], { partitionId: "2" });
    expect(await lastSequenceNumbers()).toEqual([-1, -1, 0, -1]);
    expect(await bodiesIn("2", 1)).toEqual([{ n: 1 }]);
  });

  it("stores an EventDataBatch whole, in order, in its partition, with the link's 1 MB limit", async () => {
    const batch = await producer.createBatch({ partitionId: "1" });
    expect(batch.maxSizeInBytes).toBe(1_048_576);
    for (const n of [1, 2, 3]) expect(batch.tryAdd({ body: { n } })).toBe(true);
    await producer.sendBatch(batch);
    expect(await lastSequenceNumbers()).toEqual([-1, 2, -1, -1]);
    expect(await bodiesIn("1", 3)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("spreads hub sends round-robin and never splits a batch", async () => {
    for (const batch of ["a", "b", "c", "d"]) {
      await producer.sendBatch([{ body: `${batch}1` }, { body: `${batch}2` }, { body: `${batch}3` }]);
    }
    expect(await lastSequenceNumbers()).toEqual([2, 2, 2, 2]);
    const batches = await Promise.all(["0", "1", "2", "3"].map((id) => bodiesIn(id, 3)));
    for (const bodies of batches) {
      const prefix = String(bodies[0]).slice(0, 1);
      expect(bodies).toEqual([`${prefix}1`, `${prefix}2`, `${prefix}3`]);
    }
    expect(new Set(batches.map((bodies) => String(bodies[0]).slice(0, 1))).size).toBe(4);
  });

  it("routes partition keys to the partitions Azure's hash assigns (spec §4.6 vectors, 4 partitions)", async () => {
    const expected: Record<string, string> = {
      a: "0", abc: "1", "user-42": "3", k: "1", "0123456789ab": "2", "0123456789abc": "3", héllo: "1",
    };
    for (const key of Object.keys(expected)) {
      // Two events per send: a keyed batch goes whole to the key's partition.
      await producer.sendBatch([{ body: `${key}#1` }, { body: `${key}#2` }], { partitionKey: key });
    }
    const perPartition = new Map<string, number>();
    for (const partition of Object.values(expected)) perPartition.set(partition, (perPartition.get(partition) ?? 0) + 2);
    for (const [partitionId, count] of perPartition) {
      const { events } = await readEvents(consumer, partitionId, { startPosition: earliestEventPosition, count });
      expect(events).toHaveLength(count);
      for (const event of events) {
        expect(expected[event.partitionKey ?? ""]).toBe(partitionId);
        expect(String(event.body).startsWith(`${event.partitionKey}#`)).toBe(true);
      }
    }
  });

  it("refuses a transfer over 1 MB with MessageTooLargeError and stores nothing", async () => {
    const big = Buffer.alloc(600 * 1024, 1);
    const failure = await producer.sendBatch([{ body: big }, { body: big }], { partitionId: "0" }).catch((err: unknown) => err);
    expect(errorCode(failure)).toBe("MessageTooLargeError");
    expect((failure as Error).message).toMatch(/exceeds the limit \(1048576 bytes\)/);
    expect(await lastSequenceNumbers()).toEqual([-1, -1, -1, -1]);
  });

  it("refuses sends to an unknown partition or hub", async () => {
    const partitionFailure = await producer.sendBatch([{ body: 1 }], { partitionId: "7" }).catch((err: unknown) => err);
    expect(errorCode(partitionFailure)).toBe("ArgumentOutOfRangeError");
    const missing = producerFor(emulator, "missing");
    try {
      const hubFailure = await missing.sendBatch([{ body: 1 }]).catch((err: unknown) => err);
      expect(errorCode(hubFailure)).toBe("MessagingEntityNotFoundError");
    } finally {
      await missing.close();
    }
  });

  it("retries a send rejected with server-busy and stores it exactly once", async () => {
    await producer.getPartitionIds();
    emulator.faults.rejectNextSends(1, "com.microsoft:server-busy");
    await producer.sendBatch([{ body: "once" }], { partitionId: "3" });
    expect(await lastSequenceNumbers()).toEqual([-1, -1, -1, 0]);
    expect(await bodiesIn("3", 1)).toEqual(["once"]);
  });

  it("fails a send rejected with a non-retryable condition", async () => {
    emulator.faults.rejectNextSends(1, "amqp:not-allowed");
    const failure = await producer.sendBatch([{ body: "never" }], { partitionId: "0" }).catch((err: unknown) => err);
    expect(errorCode(failure)).toBe("InvalidOperationError");
    await producer.sendBatch([{ body: "later" }], { partitionId: "0" });
    expect(await bodiesIn("0", 1)).toEqual(["later"]);
  });

  it("refuses idempotent producers with amqp:not-implemented", async () => {
    const errors: Error[] = [];
    const buffered = new EventHubBufferedProducerClient(emulator.connectionString(), HUB, {
      retryOptions,
      enableIdempotentRetries: true,
      onSendEventsErrorHandler: (context) => {
        errors.push(context.error);
      },
    });
    try {
      await buffered.enqueueEvent({ body: "x" }, { partitionId: "0" });
      // The buffered producer keeps the event and retries it; the handler sees each refusal.
      await waitFor("an error", () => errors.length > 0, 5000);
      expect(errorCode(errors[0])).toBe("NotImplementedError");
      expect(errors[0]?.message).toMatch(/idempotent/i);
    } finally {
      await buffered.close({ flush: false });
    }
  });
});
