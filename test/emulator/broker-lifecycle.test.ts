// Listener lifecycle: a free port, the connection string, per-connection state freed when clients
// leave, reader slots given back, and an idempotent stop() that also ends live connections.
import { EventHubConsumerClient, earliestEventPosition } from "@azure/event-hubs";
import { afterEach, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { consumerFor, producerFor, startEmulator, startReading, type Reader } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

describe("broker lifecycle", () => {
  let emulator: EventHubsEmulator | undefined;

  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it("listens on a free port on 127.0.0.1 and hands out an emulator connection string", async () => {
    emulator = await startEmulator();
    expect(emulator.port).toBeGreaterThan(0);
    expect(emulator.connectionString()).toBe(
      `Endpoint=sb://127.0.0.1:${emulator.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`,
    );
  });

  it("frees connection and link state when clients close, so reader slots come back", async () => {
    emulator = await startEmulator();
    const producer = producerFor(emulator);
    await producer.sendBatch([{ body: "x" }], { partitionId: "0" });
    await producer.close();
    const active = emulator;
    const clients: EventHubConsumerClient[] = [];
    const fiveReaders = async (): Promise<Reader[]> => {
      const readers = Array.from({ length: 5 }, () => {
        const client = consumerFor(active);
        clients.push(client);
        return startReading(client, "0", { startPosition: earliestEventPosition, count: 1, timeoutMs: 8000 });
      });
      await waitFor("an event at every reader", () => readers.every((r) => r.result.events.length === 1), 5000);
      return readers;
    };
    for (let round = 0; round < 2; round++) {
      const readers = await fiveReaders();
      expect(active.stats().consumerLinks).toBe(5);
      for (const reader of readers) {
        expect(reader.result.errors).toEqual([]);
        await reader.close();
      }
      await waitFor("no consumer link", () => active.stats().consumerLinks === 0, 5000);
    }
    await Promise.all(clients.map((c) => c.close()));
  });

  it("frees a closed client's connection and links", async () => {
    emulator = await startEmulator();
    const active = emulator;
    const consumer = consumerFor(active);
    const reader = startReading(consumer, "1", { startPosition: earliestEventPosition, count: 1, timeoutMs: 8000 });
    await waitFor("one consumer link", () => active.stats().consumerLinks === 1, 5000);
    await reader.close();
    await consumer.close();
    await waitFor("no connection and no consumer link", () => active.stats().connections === 0 && active.stats().consumerLinks === 0, 5000);
  });

  it("stop() ends live connections, closes the listener and can be called again", async () => {
    emulator = await startEmulator();
    const producer = producerFor(emulator);
    await producer.getEventHubProperties();
    expect(emulator.stats().connections).toBe(1);
    await Promise.all([emulator.stop(), emulator.stop()]);
    await emulator.stop();
    expect(emulator.stats().connections).toBe(0);
    const failure = await producer.getEventHubProperties().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    await producer.close();
  });
});
