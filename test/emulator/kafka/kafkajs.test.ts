// kafkajs (a Kafka client nobody here wrote) against the emulator's Kafka endpoint, sharing hubs with the
// Azure SDK: records produced over Kafka are read over AMQP with the documented mapping, events sent with
// the SDK reach a kafkajs consumer group of two members that rebalances and commits, a wrong password is
// refused, a real worker process handles what a Kafka producer sent, and `npm run send -- --protocol kafka` sends.
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";
import { CompressionTypes, Kafka, logLevel, type Consumer, type KafkaMessage } from "kafkajs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { fourPartitionHubs } from "../../support/hub-fixtures";
import { runProgram } from "../../support/program";
import { key, WorkerFleet } from "../../support/worker-process";
import { waitFor } from "../../../tools/wait-for";

const HUB_IN = "kafka-in";
const HUB_OUT = "kafka-out";
const HUB_WORKER = "kafka-worker";
const HUB_SEND = "kafka-send";
const SECOND_KEY = { name: "second", key: "second-key-value" };

let stack: LocalStack;
const workers = new WorkerFleet(() => stack.env());
const consumers: Consumer[] = [];

function kafka(password = stack.eventHubConnectionString, clientId = "kafkajs-test"): Kafka {
  return new Kafka({
    clientId,
    brokers: [stack.kafkaBootstrapServers],
    sasl: { mechanism: "plain", username: "$ConnectionString", password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

type PartitionEvent = ReceivedEventData & { partitionId: string };

/**
 * The bytes of a binary property or annotation as @azure/event-hubs hands it over: it copies every object
 * value shallowly (convertDatesToNumbers), so a binary value arrives as an object with numeric keys.
 */
const bytesOf = (value: unknown): Buffer => Buffer.from(Object.values(value as Record<string, number>));

/** Every event of the hub, read with the Azure SDK from the start, until `count` have arrived. */
async function readWithSdk(hub: string, count: number): Promise<PartitionEvent[]> {
  const client = new EventHubConsumerClient("$Default", stack.eventHubConnectionString, hub);
  const events: PartitionEvent[] = [];
  const subscription = client.subscribe(
    {
      processEvents: async (batch, context) => void events.push(...batch.map((e) => ({ ...e, partitionId: context.partitionId }))),
      processError: async () => undefined,
    },
    { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 100 },
  );
  try {
    await waitFor(`${count} events on ${hub} over AMQP`, () => events.length >= count, 30_000, () => `${events.length} so far`);
  } finally {
    await subscription.close();
    await client.close();
  }
  return events;
}

beforeAll(async () => {
  stack = await startLocalStack({
    config: { ...fourPartitionHubs(HUB_IN, HUB_OUT, HUB_WORKER, HUB_SEND), keys: [{ name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" }, SECOND_KEY] },
  });
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
  await workers.disposeAll();
});
afterAll(async () => {
  await stack?.stop();
});

describe("kafkajs against the emulator", () => {
  it("produces records the Azure SDK reads: body, headers as binary properties, the key as x-opt-kafka-key, offsets as sequence numbers", async () => {
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const keyed = Array.from({ length: 12 }, (_, i) => ({ key: "customer-7", value: `order ${i}`, headers: { source: "kafkajs", index: String(i) } }));
      const unkeyed = Array.from({ length: 8 }, (_, i) => ({ value: JSON.stringify({ i }) }));
      const first = await producer.send({ topic: HUB_IN, messages: keyed, acks: -1 });
      const second = await producer.send({ topic: HUB_IN, messages: unkeyed, compression: CompressionTypes.GZIP });
      // One key, one partition (the client's partitioner chose it), numbered from its first sequence number.
      expect(first).toHaveLength(1);
      const keyedPartition = String(first[0]!.partition);
      expect(first[0]!.errorCode).toBe(0);
      expect(second.every((r) => r.errorCode === 0)).toBe(true);

      const events = await readWithSdk(HUB_IN, 20);
      const ordered = events.filter((e) => e.systemProperties?.["x-opt-kafka-key"] !== undefined);
      expect(ordered.map((e) => Buffer.from(e.body as Uint8Array).toString())).toEqual(keyed.map((m) => m.value));
      expect(ordered.map((e) => e.sequenceNumber)).toEqual(keyed.map((_, i) => Number(first[0]!.baseOffset) + i));
      expect(bytesOf(ordered[3]!.systemProperties!["x-opt-kafka-key"]).toString()).toBe("customer-7");
      // Kafka header values are bytes: they arrive as binary application properties, never promoted.
      expect(bytesOf(ordered[3]!.properties!.index).toString()).toBe("3");
      expect(bytesOf(ordered[3]!.properties!.source).toString()).toBe("kafkajs");
      expect(ordered.every((e) => e.partitionKey === undefined || e.partitionKey === null)).toBe(true);
      const gzipped = events.filter((e) => e.systemProperties?.["x-opt-kafka-key"] === undefined);
      // A JSON value reads like the SDK's own JSON bodies (it parses a data section that is JSON).
      expect(gzipped.map((e) => (e.body as { i: number }).i).sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
      expect(new Set(ordered.map((e) => e.partitionId))).toEqual(new Set([keyedPartition]));
    } finally {
      await producer.disconnect();
    }
  });

  it("delivers Azure SDK events to a kafkajs consumer group of two members that rebalances, and commits their offsets", async () => {
    const sdk = new EventHubProducerClient(stack.eventHubConnectionString, HUB_OUT);
    const sendRound = async (round: number) => {
      for (const partitionId of ["0", "1", "2", "3"]) {
        const batch = await sdk.createBatch({ partitionId });
        for (let i = 0; i < 5; i++) batch.tryAdd({ body: Buffer.from(`r${round}-p${partitionId}-${i}`), properties: { round, label: `p${partitionId}` } });
        await sdk.sendBatch(batch);
      }
      await sdk.sendBatch([{ body: Buffer.from(`r${round}-keyed`) }], { partitionKey: "tenant-1" });
    };
    const seen = new Map<string, KafkaMessage>();
    const assignments = new Map<string, number[][]>(); // member -> every assignment it was given
    const groupId = "two-members";
    const start = async (name: string) => {
      const consumer = kafka(undefined, name).consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 300, retry: { retries: 5 } });
      consumers.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const list = assignments.get(name) ?? [];
        list.push([...(event.payload.memberAssignment[HUB_OUT] ?? [])].sort());
        assignments.set(name, list);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: HUB_OUT, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.set(`${partition}:${message.offset}`, message) });
      return consumer;
    };
    try {
      await sendRound(1);
      await start("member-a");
      await waitFor("member-a to own all four partitions", () => assignments.get("member-a")?.at(-1)?.length === 4, 30_000);
      await waitFor("the first round read", () => seen.size >= 21, 30_000, () => `${seen.size} seen`);
      await start("member-b");
      await waitFor(
        "the partitions to be shared by both members",
        () => (assignments.get("member-a")?.at(-1)?.length ?? 0) > 0 && (assignments.get("member-b")?.at(-1)?.length ?? 0) > 0
          && (assignments.get("member-a")!.at(-1)!.length + assignments.get("member-b")!.at(-1)!.length === 4),
        30_000,
        () => JSON.stringify([...assignments]),
      );
      expect(assignments.get("member-a")!.at(-1)!.length).toBeLessThan(4); // the assignment moved
      await sendRound(2);
      await waitFor("both rounds read", () => seen.size >= 42, 30_000, () => `${seen.size} seen`);
      expect(seen.size).toBe(42);

      // AMQP application properties arrive as headers in AMQP encoding (type constructor included).
      const message = [...seen.values()].find((m) => m.value?.toString() === "r2-p1-3")!;
      expect(message.headers?.label).toEqual(Buffer.concat([Buffer.from([0xa1, 2]), Buffer.from("p1")]));
      expect(message.headers?.round).toEqual(Buffer.from([0x52, 2])); // rhea encodes a small whole number as smalluint
      // The AMQP partition key is not promoted to the Kafka key; it arrives as the x-opt-partition-key header.
      const keyed = [...seen.values()].find((m) => m.value?.toString() === "r1-keyed")!;
      expect(keyed.key).toBeNull();
      expect(keyed.headers?.["x-opt-partition-key"]?.toString()).toBe("tenant-1");
      // Each record's timestamp is the event's enqueued time, as AMQP readers see it.
      const overAmqp = await readWithSdk(HUB_OUT, 42);
      expect(overAmqp).toHaveLength(42);
      for (const event of overAmqp) {
        expect(Number(seen.get(`${event.partitionId}:${event.sequenceNumber}`)?.timestamp)).toBe(event.enqueuedTimeUtc.getTime());
      }

      await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
      const ends = await Promise.all(["0", "1", "2", "3"].map(async (p) => (await sdk.getPartitionProperties(p)).lastEnqueuedSequenceNumber + 1));
      const admin = kafka().admin();
      await admin.connect();
      try {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [HUB_OUT] });
        expect(committed!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset))).toEqual(ends);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await sdk.close();
    }
  });

  it("lists offsets as the partitions' sequence numbers, and by enqueued time", async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(HUB_OUT);
      const sdk = new EventHubProducerClient(stack.eventHubConnectionString, HUB_OUT);
      try {
        for (const { partition, offset, low } of offsets) {
          const properties = await sdk.getPartitionProperties(String(partition));
          expect([Number(low), Number(offset)]).toEqual([properties.beginningSequenceNumber, properties.lastEnqueuedSequenceNumber + 1]);
        }
      } finally {
        await sdk.close();
      }
      // By time: the first event of partition 0 enqueued at or after the time of its sixth event.
      const partition0 = (await readWithSdk(HUB_OUT, 42)).filter((e) => e.partitionId === "0").sort((a, b) => a.sequenceNumber - b.sequenceNumber);
      const time = partition0[5]!.enqueuedTimeUtc.getTime();
      const expected = partition0.find((e) => e.enqueuedTimeUtc.getTime() >= time)!.sequenceNumber;
      const byTime = await admin.fetchTopicOffsetsByTimestamp(HUB_OUT, time);
      expect(byTime.find((p) => p.partition === 0)?.offset).toBe(String(expected));
    } finally {
      await admin.disconnect();
    }
  });

  it("refuses a wrong password with SASL_AUTHENTICATION_FAILED and closes the connection", async () => {
    const before = stack.kafka.connectionCount;
    const wrong = stack.eventHubConnectionString.replace("SAS_KEY_VALUE", "not-the-key");
    const producer = kafka(wrong).producer();
    const failure = await producer.connect().then(() => undefined, (error: unknown) => error as Error & { type?: string });
    expect(failure?.name).toBe("KafkaJSSASLAuthenticationError");
    expect(failure?.message).toMatch(/Invalid SharedAccessKey for 'RootManageSharedAccessKey'/);
    await waitFor("the refused connection closed", () => stack.kafka.connectionCount <= before, 5_000);

    // A hub-scoped connection string with another configured key works, for that hub only.
    const scoped = `Endpoint=sb://127.0.0.1/;SharedAccessKeyName=${SECOND_KEY.name};SharedAccessKey=${SECOND_KEY.key};EntityPath=${HUB_WORKER}`;
    const hubProducer = kafka(scoped).producer();
    await hubProducer.connect();
    try {
      await expect(hubProducer.send({ topic: HUB_IN, messages: [{ value: "x" }] })).rejects.toThrow(/Not authorized to access topics/);
    } finally {
      await hubProducer.disconnect();
    }
  });

  it("feeds a real worker process: every record a Kafka producer sent is processed", async () => {
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const messages = Array.from({ length: 16 }, (_, i) => ({ key: `customer-${i % 4}`, value: JSON.stringify({ text: `Kafka message ${i}: the parcel never arrived, please call me.` }) }));
      await producer.send({ topic: HUB_WORKER, messages });
    } finally {
      await producer.disconnect();
    }
    // What the Kafka producer stored, as (partition, sequence number): the keys the worker's results carry.
    const sent: string[] = [];
    const sdk = new EventHubProducerClient(stack.eventHubConnectionString, HUB_WORKER);
    try {
      for (const partitionId of await sdk.getPartitionIds()) {
        const properties = await sdk.getPartitionProperties(partitionId);
        for (let s = 0; s <= properties.lastEnqueuedSequenceNumber; s++) sent.push(key(partitionId, s));
      }
    } finally {
      await sdk.close();
    }
    expect(sent).toHaveLength(16);
    const worker = workers.start("kafka-fed", HUB_WORKER);
    await waitFor("every Kafka record processed", () => new Set(worker.results.map((r) => key(r.partitionId, r.sequenceNumber))).size >= 16, 40_000, () => worker.describe());
    expect(new Set(worker.results.map((r) => key(r.partitionId, r.sequenceNumber)))).toEqual(new Set(sent));
  });

  it("npm run send -- --protocol kafka: sends the sample events with kafkajs, spread over the partitions", async () => {
    // Asynchronously: the emulator answering it runs in this process.
    const send = (args: string[], env: Record<string, string>) => runProgram("tools/send.ts", args, env);
    const run = await send(["--protocol", "kafka", "--count", "40", "--rate", "0", "--partition-key-mode", "round-robin"], {
      EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString,
      EVENTHUB_NAME: HUB_SEND,
      KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout) as Record<string, unknown>).toMatchObject({ eventHubName: HUB_SEND, protocol: "kafka", sent: 40 });
    const events = await readWithSdk(HUB_SEND, 40);
    expect(["0", "1", "2", "3"].map((p) => events.filter((e) => e.partitionId === p).length)).toEqual([10, 10, 10, 10]);
    expect(bytesOf(events[0]!.properties!["content-type"]).toString()).toBe("application/json");

    const missing = await send(["--protocol", "kafka", "--count", "1"], { EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString, EVENTHUB_NAME: HUB_SEND });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--bootstrap-servers \(KAFKA_BOOTSTRAP_SERVERS\): required with --protocol kafka/);
  });
});
