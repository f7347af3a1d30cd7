// librdkafka against the emulator's Kafka endpoint, through Debian's kcat and python3-confluent-kafka (real
// processes): metadata, producing with the client's defaults and with the idempotent producer on, gzip and a
// codec Event Hubs refuses, consuming in a group that commits, and kcat reading what the Azure SDK sent.
import { spawn } from "node:child_process";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { assertInstalled, probeKafkaClients, runPython, shouldRun } from "./python-clients";

const clients = probeKafkaClients();
const HUBS = ["rdk-meta", "rdk-produce", "rdk-consume"];

interface Delivery {
  partition?: number;
  offset?: number;
  value: string;
  error?: string;
}

/** kcat with the emulator's SASL settings; resolves with stdout, fails on a non-zero exit or after 60 s. */
function kcat(stack: LocalStack, args: string[], input?: string): Promise<string> {
  const child = spawn("kcat", [
    "-b", stack.kafkaBootstrapServers,
    "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
    "-X", "sasl.username=$ConnectionString", "-X", `sasl.password=${stack.eventHubConnectionString}`,
    ...args,
  ], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`kcat ${args.join(" ")} exited with ${code}\n${stderr.slice(-2000)}`));
    });
  });
}

describe.runIf(shouldRun(clients, "Kafka interop (librdkafka)"))(`librdkafka against the Kafka endpoint (${clients.summary})`, () => {
  let stack: LocalStack;
  const env = () => ({ KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers, EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString });
  const python = (args: string[]) => runPython("kafka_client.py", args, env());

  beforeAll(async () => {
    assertInstalled(clients);
    stack = await startLocalStack({ config: { hubs: HUBS.map((name) => ({ name, partitionCount: 3 })) } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("reads metadata: one broker at the address the client dialled, every hub with its partitions", async () => {
    const listing = JSON.parse(await kcat(stack, ["-L", "-J"])) as { brokers: Array<{ id: number; name: string }>; topics: Array<{ topic: string; partitions: unknown[] }> };
    expect(listing.brokers).toEqual([{ id: 0, name: stack.kafkaBootstrapServers }]);
    expect(listing.topics.map((t) => [t.topic, t.partitions.length]).sort()).toEqual(HUBS.map((hub) => [hub, 3]).sort());

    const [meta] = (await python(["metadata"])).lines;
    expect(meta).toMatchObject({ brokers: [{ id: 0, host: "127.0.0.1", port: stack.kafkaPort }], topics: Object.fromEntries(HUBS.map((hub) => [hub, [0, 1, 2]])) });
  });

  it("produces with the client's defaults, with the idempotent producer and with gzip; refuses lz4 as Event Hubs does", async () => {
    const runs = [
      await python(["produce", "--topic", "rdk-produce", "--count", "20", "--prefix", "defaults"]),
      await python(["produce", "--topic", "rdk-produce", "--count", "20", "--prefix", "idempotent", "--idempotence", "--key", "one-key"]),
      await python(["produce", "--topic", "rdk-produce", "--count", "20", "--prefix", "gzip", "--compression", "gzip", "--pad", "2000"]),
    ];
    const delivered = runs.flatMap((run) => run.values<Delivery>("delivery"));
    expect(delivered.filter((d) => d.error !== undefined)).toEqual([]);
    expect(delivered).toHaveLength(60);
    expect(new Set(delivered.filter((d) => d.value.startsWith("idempotent")).map((d) => d.partition)).size).toBe(1); // one key, one partition

    // What librdkafka was told (partition, offset) is where the Azure SDK finds each record (offset = sequence number).
    const sdk = new EventHubProducerClient(stack.eventHubConnectionString, "rdk-produce");
    try {
      const ends = await Promise.all(["0", "1", "2"].map(async (p) => (await sdk.getPartitionProperties(p)).lastEnqueuedSequenceNumber + 1));
      expect(ends.reduce((a, b) => a + b, 0)).toBe(60);
      for (const [partition, end] of ends.entries()) {
        expect(delivered.filter((d) => d.partition === partition).map((d) => d.offset).sort((a, b) => a! - b!)).toEqual([...Array(end).keys()]);
      }
    } finally {
      await sdk.close();
    }

    const lz4 = await python(["produce", "--topic", "rdk-produce", "--count", "5", "--prefix", "lz4", "--compression", "lz4", "--pad", "2000"]);
    expect(lz4.values<Delivery>("delivery").map((d) => d.error)).toEqual(Array(5).fill("UNSUPPORTED_FOR_MESSAGE_FORMAT"));
  });

  it("consumes in a group that commits (confluent-kafka), and with kcat, what the Azure SDK sent", async () => {
    const sdk = new EventHubProducerClient(stack.eventHubConnectionString, "rdk-consume");
    try {
      for (const partitionId of ["0", "1", "2"]) {
        await sdk.sendBatch(Array.from({ length: 4 }, (_, i) => ({ body: Buffer.from(`sdk-p${partitionId}-${i}`), properties: { index: i } })), { partitionId });
      }
    } finally {
      await sdk.close();
    }
    const run = await python(["consume", "--topic", "rdk-consume", "--group", "py-group", "--count", "12", "--timeout", "60"]);
    const records = run.values<{ partition: number; offset: number; value: string; headers: Record<string, string>; timestamp_type: number }>("record");
    expect(records.map((r) => r.value).sort()).toEqual(["0", "1", "2"].flatMap((p) => [0, 1, 2, 3].map((i) => `sdk-p${p}-${i}`)).sort());
    expect(records.every((r) => r.timestamp_type === 2)).toBe(true); // TIMESTAMP_LOG_APPEND_TIME: the enqueued time
    const third = records.find((r) => r.value === "sdk-p1-2")!;
    expect(third.offset).toBe(2);
    expect(third.headers.index).toBe("5202"); // an AMQP smalluint 2, type constructor included
    expect(run.values<Record<string, number>>("committed")).toEqual([{ 0: 4, 1: 4, 2: 4 }]);

    const lines = (await kcat(stack, ["-C", "-t", "rdk-consume", "-e", "-J", "-q"])).trim().split("\n").map((line) => JSON.parse(line) as { partition: number; offset: number; payload: string });
    expect(lines.map((l) => l.payload).sort()).toEqual(records.map((r) => r.value).sort());
  });
});
