// Faults that act on live links and connections (spec §7): the SDK must recover from a forced detach
// and from dropped sockets without losing or repeating events, and report a stolen link. Send and
// management faults are covered next to sending and management.
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from "@azure/event-hubs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, errorCode, producerFor, startEmulator, startReading } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

describe("broker faults on live links", () => {
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

  const sendNumbered = (from: number, count: number) =>
    producer.sendBatch(Array.from({ length: count }, (_, i) => ({ body: from + i })), { partitionId: "0" });

  async function expectRecoveryAfter(fault: () => number): Promise<void> {
    await sendNumbered(0, 10);
    const reader = startReading(consumer, "0", { startPosition: earliestEventPosition, count: 20, timeoutMs: 15_000 });
    await waitFor("10 events", () => reader.result.events.length === 10, 5000);
    expect(fault()).toBeGreaterThan(0);
    await sendNumbered(10, 10);
    await reader.done;
    await reader.close();
    expect(reader.result.events.map((e) => e.body)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(reader.result.events.map((e) => e.sequenceNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  }

  it("after a forced detach the subscription reattaches and continues without loss or repeats", async () => {
    await expectRecoveryAfter(() => emulator.faults.detachReceivers());
  });

  it("after dropped connections producer and subscription reconnect and continue without loss or repeats", async () => {
    await expectRecoveryAfter(() => emulator.faults.dropConnections());
  });

  it("a receiver detached with amqp:link:stolen gets ReceiverDisconnectedError", async () => {
    await sendNumbered(0, 1);
    const reader = startReading(consumer, "0", { startPosition: earliestEventPosition, count: 1, timeoutMs: 8000 });
    await waitFor("1 event", () => reader.result.events.length === 1, 5000);
    expect(emulator.faults.detachReceivers("amqp:link:stolen")).toBe(1);
    await waitFor("a ReceiverDisconnectedError", () => reader.result.errors.some((e) => errorCode(e) === "ReceiverDisconnectedError"), 5000);
    await reader.close();
  });
});
