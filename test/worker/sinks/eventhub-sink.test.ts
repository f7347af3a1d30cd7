import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { EventHubSink, eventHubSink } from "../../../worker/sinks/eventhub-sink";
import { pluginRuntime } from "../../support/plugin-runtime";
import { asWritten } from "../../support/result-records";
import { EventTooLargeError } from "../../../common/send-batches";
import { PartialWriteError, type ResultRecord } from "../../../worker/sinks/sink";

const retryOptions = { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 };

function record(partitionId: string, sequenceNumber: number, padding: number): ResultRecord {
  return {
    partitionId, sequenceNumber, offset: String(sequenceNumber * 10), enqueuedTimeUtc: "2024-03-12T09:00:00.000Z",
    processor: "text-insights", processedAt: "2024-03-12T09:00:01.000Z", resultJson: JSON.stringify({ text: "x".repeat(padding) }),
  };
}

/** Reads every partition of the hub from the start until `expected` events arrived (bounded by time). */
async function readAll(stack: LocalStack, hub: string, expected: number): Promise<Array<{ partition: string; event: ReceivedEventData }>> {
  const consumer = new EventHubConsumerClient("$Default", stack.eventHubConnectionString, hub, { retryOptions });
  const received: Array<{ partition: string; event: ReceivedEventData }> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${expected} events within 20 s`)), 20_000);
      consumer.subscribe(
        {
          processEvents: async (events, context) => {
            for (const event of events) received.push({ partition: context.partitionId, event });
            if (received.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
          processError: async () => undefined, // transient link errors are retried by the SDK
        },
        { startPosition: earliestEventPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 1 },
      ); // closed with the client
    });
  } finally {
    await consumer.close();
  }
  return received;
}

describe("eventhub sink against the local emulator", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      config: { hubs: [{ name: "events", partitionCount: 4, consumerGroups: ["ai-workers"] }, { name: "results", partitionCount: 2 }, { name: "results-busy", partitionCount: 1 }, { name: "results-partial", partitionCount: 1 }] },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("sends results in size-bounded batches, keyed by source partition so each partition's results stay in order", async () => {
    const sink = await eventHubSink.create({ connectionString: stack.eventHubConnectionString, eventHubName: "results" }, pluginRuntime());
    // ~30 KB each: 40 records of one partition cannot fit in one batch, so the sink must split.
    const first = [...Array.from({ length: 40 }, (_, i) => record("0", i, 30_000)), ...Array.from({ length: 5 }, (_, i) => record("3", 100 + i, 10))];
    const second = Array.from({ length: 5 }, (_, i) => record("0", 40 + i, 10));
    try {
      await sink.write(first);
      await sink.write(second);
    } finally {
      await sink.close();
    }

    const received = await readAll(stack, "results", first.length + second.length);
    expect(received).toHaveLength(50);
    for (const source of ["0", "3"]) {
      const mine = received.filter(({ event }) => (event.body as ResultRecord).partitionId === source);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1); // one results partition per source partition
      const sequences = mine.sort((a, b) => a.event.sequenceNumber - b.event.sequenceNumber).map((r) => (r.event.body as ResultRecord).sequenceNumber);
      expect(sequences).toEqual(source === "0" ? Array.from({ length: 45 }, (_, i) => i) : [100, 101, 102, 103, 104]);
      expect(mine[0]?.event.partitionKey).toBe(source);
      expect(mine[0]?.event.contentType).toBe("application/json");
    }
    const sample = received.find(({ event }) => (event.body as ResultRecord).sequenceNumber === 7)!.event;
    expect(sample.body).toEqual(asWritten(record("0", 7, 30_000)));
    expect(sample.messageId).toBe("0-7");
  });

  it("a write that fails after its first batch names the records already sent, so a retry sends only the rest", async () => {
    const sink = EventHubSink.create({ connectionString: stack.eventHubConnectionString, eventHubName: "results-partial" });
    // Three small results go out in a first batch; the fourth is too large for any batch.
    const records = [record("1", 1, 10), record("1", 2, 10), record("1", 3, 10), record("1", 4, 1_100_000)];
    try {
      const failure = await sink.write(records).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PartialWriteError);
      expect((failure as PartialWriteError).durable.map((r) => r.sequenceNumber)).toEqual([1, 2, 3]);
      expect((failure as PartialWriteError).cause).toBeInstanceOf(EventTooLargeError);
    } finally {
      await sink.close();
    }
    const received = await readAll(stack, "results-partial", 3);
    expect(received.map(({ event }) => (event.body as ResultRecord).sequenceNumber)).toEqual([1, 2, 3]);
  });

  it("makes one attempt per send: a server-busy rejection reaches the batch commit, which owns the retries", async () => {
    const sink = EventHubSink.create({ connectionString: stack.eventHubConnectionString, eventHubName: "results-busy" });
    try {
      stack.emulator.faults.rejectNextSends(1, "com.microsoft:server-busy");
      // With the SDK's default policy this send would be retried inside write() 30 s later and succeed.
      const failure = await sink.write([record("2", 1, 10)]).catch((error: unknown) => error);
      expect((failure as { code?: string }).code).toBe("ServerBusyError");
      await sink.write([record("2", 1, 10)]); // what the commit's retry does
    } finally {
      await sink.close();
    }
    const received = await readAll(stack, "results-busy", 1);
    expect(received.map(({ event }) => (event.body as ResultRecord).sequenceNumber)).toEqual([1]);
  });
});
