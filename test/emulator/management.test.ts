// $management READ through the real SDK: hub and partition properties, entity errors, several hubs,
// and the delayed-reply fault.
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { errorCode, HUB, producerFor, retryOptions, startEmulator } from "./broker-helpers";

describe("broker $management", () => {
  let emulator: EventHubsEmulator;
  let producer: EventHubProducerClient;

  beforeAll(async () => {
    emulator = await startEmulator({ hubs: [{ name: HUB, partitionCount: 4 }, { name: "audit", partitionCount: 2 }] });
    producer = producerFor(emulator);
  });
  afterAll(async () => {
    await producer?.close();
    await emulator?.stop();
  });

  it("reports hub properties with every field v6 reads", async () => {
    const before = Date.now();
    const properties = await producer.getEventHubProperties();
    expect(properties.name).toBe(HUB);
    expect(properties.partitionIds).toEqual(["0", "1", "2", "3"]);
    expect(properties.isGeoDrEnabled).toBe(false);
    expect(properties.createdOn).toBeInstanceOf(Date);
    expect(properties.createdOn.getTime()).toBeLessThanOrEqual(before);
    expect(await producer.getPartitionIds()).toEqual(["0", "1", "2", "3"]);
  });

  it("reports an empty partition as never written", async () => {
    const properties = await producer.getPartitionProperties("1");
    expect(properties).toMatchObject({
      eventHubName: HUB,
      partitionId: "1",
      beginningSequenceNumber: -1,
      lastEnqueuedSequenceNumber: -1,
      lastEnqueuedOffset: "-1",
      isEmpty: true,
    });
  });

  it("reports the last enqueued event of a written partition, with a byte offset", async () => {
    await producer.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }], { partitionId: "2" });
    const properties = await producer.getPartitionProperties("2");
    expect(properties.beginningSequenceNumber).toBe(0);
    expect(properties.lastEnqueuedSequenceNumber).toBe(2);
    expect(properties.isEmpty).toBe(false);
    expect(typeof properties.lastEnqueuedOffset).toBe("string");
    // Offsets are byte positions: the third event starts after two encoded events, not at "2".
    expect(Number(properties.lastEnqueuedOffset)).toBeGreaterThan(2);
    expect(Math.abs(properties.lastEnqueuedOnUtc.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it("serves several hubs, with case-insensitive names", async () => {
    const audit = new EventHubProducerClient(emulator.connectionString(), "AUDIT", { retryOptions });
    try {
      const properties = await audit.getEventHubProperties();
      expect(properties.name).toBe("audit");
      expect(properties.partitionIds).toEqual(["0", "1"]);
    } finally {
      await audit.close();
    }
  });

  it("answers an unknown hub with MessagingEntityNotFoundError", async () => {
    const missing = new EventHubProducerClient(emulator.connectionString(), "missing", { retryOptions });
    try {
      const failure = await missing.getEventHubProperties().catch((err: unknown) => err);
      expect(errorCode(failure)).toBe("MessagingEntityNotFoundError");
    } finally {
      await missing.close();
    }
  });

  it("answers an unknown partition with ArgumentOutOfRangeError", async () => {
    const failure = await producer.getPartitionProperties("9").catch((err: unknown) => err);
    expect(errorCode(failure)).toBe("ArgumentOutOfRangeError");
  });

  it("delayManagement makes management calls time out until it is turned off", async () => {
    const impatient = new EventHubProducerClient(emulator.connectionString(), HUB, {
      retryOptions: { maxRetries: 0, retryDelayInMs: 100, timeoutInMs: 1000 },
    });
    try {
      await impatient.getEventHubProperties(); // connected and authorized before the fault
      emulator.faults.delayManagement(1500);
      const failure = await impatient.getEventHubProperties().catch((err: unknown) => err);
      expect(errorCode(failure)).toBe("OperationTimeoutError");
      emulator.faults.delayManagement(0);
      expect((await impatient.getEventHubProperties()).name).toBe(HUB);
    } finally {
      emulator.faults.delayManagement(0);
      await impatient.close();
    }
  });
});
