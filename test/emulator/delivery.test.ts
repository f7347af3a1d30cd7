// Receiving through the real EventHubConsumerClient: every start position, byte offsets, events
// unchanged end to end, runtime metrics, and refused positions and entities.
import {
  type EventData,
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type ReceivedEventData,
} from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, errorCode, producerFor, readEvents, startEmulator, startReading } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

describe("broker delivery", () => {
  let emulator: EventHubsEmulator;
  let producer: EventHubProducerClient;
  let consumer: EventHubConsumerClient;
  /** Partition 0 as stored: two events in one send, then three in a later send. */
  let stored: ReceivedEventData[];

  beforeAll(async () => {
    emulator = await startEmulator();
    producer = producerFor(emulator);
    consumer = consumerFor(emulator);
    await producer.sendBatch([{ body: { n: 0 } }, { body: { n: 1 } }], { partitionId: "0" });
    await new Promise((resolve) => setTimeout(resolve, 30)); // a later enqueued time for the second send
    await producer.sendBatch([{ body: { n: 2 } }, { body: { n: 3 } }, { body: { n: 4 } }], { partitionId: "0" });
    stored = (await readEvents(consumer, "0", { startPosition: earliestEventPosition, count: 5 })).events;
  });
  afterAll(async () => {
    await consumer?.close();
    await producer?.close();
    await emulator?.stop();
  });

  const firstFrom = async (startPosition: Parameters<typeof readEvents>[2]["startPosition"]): Promise<number | undefined> =>
    (await readEvents(consumer, "0", { startPosition, count: 1 })).events[0]?.sequenceNumber;

  it("reads from the earliest event, in order, sequence numbers from 0", () => {
    expect(stored.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);
    expect(stored.map((e) => e.body)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it("issues offsets as byte positions, not sequence numbers", () => {
    const offsets = stored.map((e) => e.offset);
    for (const offset of offsets) expect(offset).toMatch(/^\d+$/);
    expect(offsets[0]).toBe("0");
    for (let i = 1; i < offsets.length; i++) {
      expect(Number(offsets[i]) - Number(offsets[i - 1])).toBeGreaterThan(1);
      expect(offsets[i]).not.toBe(String(stored[i]?.sequenceNumber));
    }
  });

  it("starts after an offset, or at it when inclusive", async () => {
    const offset = stored[1]!.offset;
    expect(await firstFrom({ offset })).toBe(2);
    expect(await firstFrom({ offset, isInclusive: true })).toBe(1);
  });

  it("starts after a sequence number, or at it when inclusive", async () => {
    expect(await firstFrom({ sequenceNumber: 2 })).toBe(3);
    expect(await firstFrom({ sequenceNumber: 2, isInclusive: true })).toBe(2);
  });

  it("starts after an enqueued time", async () => {
    expect(stored[1]!.enqueuedTimeUtc.getTime()).toBeLessThan(stored[2]!.enqueuedTimeUtc.getTime());
    expect(await firstFrom({ enqueuedOn: stored[1]!.enqueuedTimeUtc })).toBe(2);
  });

  it("starts at latest: only events enqueued after the link attached", async () => {
    await producer.sendBatch([{ body: "old" }], { partitionId: "1" });
    const reader = startReading(consumer, "1", { startPosition: latestEventPosition, count: 1, timeoutMs: 8000 });
    // Keep sending until the reader (attached at some point) sees one; everything it sees is new.
    let sent = 0;
    try {
      await waitFor("a new event at the latest position", () => {
        if (reader.result.events.length === 0 && sent < 50) void producer.sendBatch([{ body: `new-${sent++}` }], { partitionId: "1" });
        return reader.result.events.length > 0;
      }, 8000);
    } finally {
      await reader.close();
    }
    expect(reader.result.events.map((e) => e.body)).not.toContain("old");
    expect(reader.result.events[0]!.sequenceNumber).toBeGreaterThanOrEqual(1);
  });

  it("refuses positions past the end with ArgumentOutOfRangeError", async () => {
    for (const startPosition of [{ sequenceNumber: 100 }, { offset: "999999" }]) {
      const { events, errors } = await readEvents(consumer, "0", { startPosition, count: 1, stopOnError: true });
      expect(events).toHaveLength(0);
      expect(errors.map(errorCode)).toContain("ArgumentOutOfRangeError");
    }
  });

  it("delivers bodies, properties and annotations unchanged", async () => {
    const binary = Buffer.from([0, 1, 2, 250, 255]);
    const when = new Date("2024-05-06T07:08:09.010Z");
    // An AmqpAnnotatedMessage (core-amqp's shape), which sendBatch accepts next to EventData.
    const annotatedMessage = {
      body: "annotated",
      bodyType: "data",
      messageAnnotations: { "x-custom-annotation": "kept" },
      applicationProperties: { source: "amqp" },
    };
    await producer.sendBatch(
      [
        {
          body: { text: "héllo", list: [1, 2.5, null], nested: { ok: true } },
          properties: { str: "s", int: 42, negative: -7, double: 1.25, bool: false, date: when },
          messageId: "message-1",
          correlationId: "correlation-1",
          contentType: "application/json",
        },
        { body: binary },
        annotatedMessage as unknown as EventData,
      ],
      { partitionId: "2" },
    );
    const { events } = await readEvents(consumer, "2", { startPosition: earliestEventPosition, count: 3 });
    const [json, raw, annotated] = events;
    expect(json?.body).toEqual({ text: "héllo", list: [1, 2.5, null], nested: { ok: true } });
    // The SDK itself turns received timestamps into epoch milliseconds.
    expect(json?.properties).toEqual({ str: "s", int: 42, negative: -7, double: 1.25, bool: false, date: when.getTime() });
    expect(json).toMatchObject({ messageId: "message-1", correlationId: "correlation-1", contentType: "application/json" });
    expect(Buffer.compare(raw?.body as Buffer, binary)).toBe(0);
    expect(annotated?.systemProperties?.["x-custom-annotation"]).toBe("kept");
    expect(annotated?.properties).toEqual({ source: "amqp" });
  });

  it("reports runtime metrics when asked to track the last enqueued event", async () => {
    const { events, lastEnqueued } = await readEvents(consumer, "0", {
      startPosition: earliestEventPosition,
      count: 5,
      trackLastEnqueuedEventProperties: true,
    });
    const last = events[events.length - 1]!;
    expect(lastEnqueued?.sequenceNumber).toBe(4);
    expect(lastEnqueued?.offset).toBe(last.offset);
    expect(lastEnqueued?.enqueuedOn?.getTime()).toBe(last.enqueuedTimeUtc.getTime());
    expect(lastEnqueued?.retrievedOn).toBeInstanceOf(Date);
  });

  it("reads consumer groups case-insensitively and refuses unknown entities", async () => {
    const workers = consumerFor(emulator, "AI-Workers");
    const unknownGroup = consumerFor(emulator, "nobody");
    const unknownHub = consumerFor(emulator, "$Default", "missing");
    try {
      const ok = await readEvents(workers, "0", { startPosition: earliestEventPosition, count: 5 });
      expect(ok.events).toHaveLength(5);
      const group = await readEvents(unknownGroup, "0", { startPosition: earliestEventPosition, count: 1, stopOnError: true });
      expect(group.errors.map(errorCode)).toContain("MessagingEntityNotFoundError");
      const partition = await readEvents(consumer, "8", { startPosition: earliestEventPosition, count: 1, stopOnError: true });
      expect(partition.errors.map(errorCode)).toContain("ArgumentOutOfRangeError");
      const hub = await readEvents(unknownHub, "0", { startPosition: earliestEventPosition, count: 1, stopOnError: true });
      expect(hub.errors.map(errorCode)).toContain("MessagingEntityNotFoundError");
    } finally {
      await Promise.all([workers.close(), unknownGroup.close(), unknownHub.close()]);
    }
  });
});
