// Receiver exclusivity through the real SDK (spec §5.3): owner levels (epochs) with amqp:link:stolen,
// and at most five readers per partition per consumer group.
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from "@azure/event-hubs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, errorCode, producerFor, startEmulator, startReading, type Reader } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

describe("broker receiver exclusivity", () => {
  let emulator: EventHubsEmulator;
  let producer: EventHubProducerClient;
  const clients: EventHubConsumerClient[] = [];
  const readers: Reader[] = [];

  beforeEach(async () => {
    emulator = await startEmulator();
    producer = producerFor(emulator);
    await producer.sendBatch([{ body: "first" }], { partitionId: "0" });
  });
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.close()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await producer?.close();
    await emulator?.stop();
  });

  /** A new client reading partition 0 from the start; `count` 1 means "attached and got the event". */
  function read(ownerLevel?: number): Reader {
    const client = consumerFor(emulator);
    clients.push(client);
    const reader = startReading(client, "0", {
      startPosition: earliestEventPosition,
      count: 1,
      timeoutMs: 8000,
      ...(ownerLevel === undefined ? {} : { ownerLevel }),
    });
    readers.push(reader);
    return reader;
  }

  const codes = (reader: Reader) => reader.result.errors.map(errorCode);

  it("a higher owner level takes the partition over; the old reader gets ReceiverDisconnectedError", async () => {
    const first = read(1);
    await waitFor("the first reader's event", () => first.result.events.length === 1, 5000);
    const second = read(2);
    await waitFor("the second reader's event", () => second.result.events.length === 1, 5000);
    await waitFor("the first reader disconnected", () => codes(first).includes("ReceiverDisconnectedError"), 5000);
    expect(first.result.errors[0]?.message).toMatch(/higher epoch of '2'/);
    expect(second.result.errors).toEqual([]);
  });

  it("refuses a lower owner level and a reader without one while an owner holds the partition", async () => {
    const owner = read(5);
    await waitFor("the owner's event", () => owner.result.events.length === 1, 5000);
    const lower = read(4);
    const plain = read();
    await waitFor("the lower-epoch and plain readers disconnected", () => codes(lower).includes("ReceiverDisconnectedError") && codes(plain).includes("ReceiverDisconnectedError"), 5000);
    expect(lower.result.errors[0]?.message).toMatch(/higher epoch '5' already exists/);
    expect(plain.result.errors[0]?.message).toMatch(/non-epoch receiver is not allowed/);
    expect(lower.result.events).toEqual([]);
    expect(plain.result.events).toEqual([]);
    expect(owner.result.errors).toEqual([]);
  });

  it("refuses a sixth reader of a partition in a consumer group with QuotaExceededError", async () => {
    const five = Array.from({ length: 5 }, () => read());
    await waitFor("an event at each of the five readers", () => five.every((r) => r.result.events.length === 1), 5000);
    const sixth = read();
    await waitFor("the sixth reader refused with QuotaExceededError", () => codes(sixth).includes("QuotaExceededError"), 5000);
    expect(sixth.result.errors[0]?.message).toMatch(/maximum number of allowed receivers per partition in a consumer group which is 5/);
    expect(sixth.result.events).toEqual([]);
    for (const reader of five) expect(reader.result.errors).toEqual([]);
  });
});
