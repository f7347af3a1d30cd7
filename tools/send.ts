// `npm run send -- --count N --rate R [--partition-key-mode none|round-robin|random] [--poison-every K] [--protocol amqp|kafka]`
// Sample producer of customer messages, rate-limited and batched with EventDataBatch (AMQP) or sent with
// kafkajs (Kafka). Works against the emulator and Azure: EVENTHUB_CONNECTION_STRING (Send rights) or, over
// AMQP only, EVENTHUB_NAMESPACE + DefaultAzureCredential; over Kafka also KAFKA_BOOTSTRAP_SERVERS.
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient, type EventData } from "@azure/event-hubs";
import { DefaultAzureCredential } from "@azure/identity";
import { Command, Option } from "commander";
import { z } from "zod";
import { decimal, exitWithProblems, optionsOrExit, wholeNumber } from "../common/cli";
import { sendBatches } from "../common/send-batches";
import { customerMessage } from "./dev/sample-messages";
import { connectKafkaTarget, KAFKA_NOT_WITH_NAMESPACE } from "./send-kafka";
import type { Destination, SendTarget } from "./send-target";
import { errorFields, probeEventHub, startTracing } from "../worker/index";

export const PARTITION_KEY_MODES = ["none", "round-robin", "random"] as const;
export type PartitionKeyMode = (typeof PARTITION_KEY_MODES)[number];
export const PROTOCOLS = ["amqp", "kafka"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The Event Hubs SDK as a SendTarget (EventDataBatch per destination). */
export function amqpTarget(producer: EventHubProducerClient): SendTarget {
  return {
    partitionIds: () => producer.getPartitionIds(),
    send: async (events, destination, signal) => (await sendBatches(producer, events, { ...destination, abortSignal: signal })).batches,
    close: () => producer.close(),
  };
}

export interface SendOptions {
  count: number;
  /** Events per second; 0 sends as fast as batches fill. */
  rate: number;
  /** none: the service spreads events; round-robin: the producer cycles partition ids; random: a random customer id as partition key. */
  partitionKeyMode: PartitionKeyMode;
  /** Every K-th event is poison (declared JSON, body is not JSON); 0 = none. */
  poisonEvery: number;
  signal?: AbortSignal;
  onProgress?: (sent: number) => void;
}

export interface SendSummary {
  sent: number;
  poison: number;
  batches: number;
  seconds: number;
}

const TICK_MS = 100;
/** Partition keys for random mode: few enough that events of one key batch together. */
const CUSTOMER_KEYS = Array.from({ length: 32 }, (_, i) => `customer-${i}`);

const runId = `${Date.now().toString(36)}`;

export function sampleEvent(index: number, poisonEvery: number): EventData {
  const poison = poisonEvery > 0 && (index + 1) % poisonEvery === 0;
  const message = customerMessage();
  const json = JSON.stringify({ ...message, index });
  return {
    messageId: `${runId}-${index}`,
    contentType: "application/json",
    // Poison: declared JSON but cut off mid-document, so decoding fails for good and it is dead-lettered.
    body: Buffer.from(poison ? json.slice(0, json.length >> 1) : json, "utf8"),
    properties: { source: "sample-producer", index, ...(poison ? { poison: true } : {}) },
  };
}

/** Groups events by where they go: a partition id, a partition key, or anywhere. */
function destinationOf(mode: PartitionKeyMode, index: number, partitionIds: string[]): Destination {
  if (mode === "round-robin") return { partitionId: partitionIds[index % partitionIds.length] as string };
  if (mode === "random") return { partitionKey: CUSTOMER_KEYS[Math.floor(Math.random() * CUSTOMER_KEYS.length)] as string };
  return {};
}

/** Sends `count` sample events at `rate` per second, in batches per destination and tick. */
export async function sendEvents(target: SendTarget, options: SendOptions): Promise<SendSummary> {
  const partitionIds = options.partitionKeyMode === "round-robin" ? await target.partitionIds() : [];
  const started = Date.now();
  let sent = 0;
  let poison = 0;
  let batches = 0;
  while (sent < options.count && !options.signal?.aborted) {
    const elapsedMs = Date.now() - started;
    const allowed = options.rate > 0 ? Math.floor((options.rate * (elapsedMs + TICK_MS)) / 1000) : sent + 1000;
    const take = Math.min(options.count, allowed) - sent;
    if (take <= 0) {
      await sleep(TICK_MS / 4);
      continue;
    }
    const groups = new Map<string, { destination: Destination; events: EventData[] }>();
    for (let index = sent; index < sent + take; index++) {
      const destination = destinationOf(options.partitionKeyMode, index, partitionIds);
      const key = `${destination.partitionId ?? ""}|${destination.partitionKey ?? ""}`;
      const group = groups.get(key) ?? { destination, events: [] };
      group.events.push(sampleEvent(index, options.poisonEvery));
      groups.set(key, group);
      if (options.poisonEvery > 0 && (index + 1) % options.poisonEvery === 0) poison++;
    }
    const counts = await Promise.all([...groups.values()].map((group) => target.send(group.events, group.destination, options.signal)));
    batches += counts.reduce((total, groupBatches) => total + groupBatches, 0);
    sent += take;
    options.onProgress?.(sent);
  }
  return { sent, poison, batches, seconds: (Date.now() - started) / 1000 };
}

// ---- CLI ----

/** The SDK waits 30 s between retries by default: a wrong key took 92 s to report. */
const SEND_RETRY = { maxRetries: 3, retryDelayInMs: 1000, timeoutInMs: 30_000 };

const cliSchema = z.object({
  count: wholeNumber(1, 100_000_000),
  rate: decimal(0, 1_000_000),
  partitionKeyMode: z.enum(PARTITION_KEY_MODES),
  poisonEvery: wholeNumber(0, 100_000_000),
  protocol: z.enum(PROTOCOLS),
  bootstrapServers: z.string().regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, "allowed: host:port[,host:port...]").optional(),
  connectionString: z.string().min(1, "allowed: a connection string, not empty").optional(),
  namespace: z.string().min(1, "allowed: a namespace such as example.servicebus.windows.net, not empty").optional(),
  eventhubName: z.string().min(1, "allowed: an event hub name, not empty").optional(),
}).superRefine((options, ctx) => {
  // Which settings go together: a connection string, or a namespace with a hub name.
  if (!options.connectionString && !options.namespace) ctx.addIssue({ code: "custom", message: "set EVENTHUB_CONNECTION_STRING (--connection-string) or EVENTHUB_NAMESPACE (--namespace)" });
  else if (options.namespace && !options.eventhubName) ctx.addIssue({ code: "custom", message: "EVENTHUB_NAME (--eventhub-name) is required with EVENTHUB_NAMESPACE" });
  if (options.protocol === "kafka") {
    if (!options.bootstrapServers) ctx.addIssue({ code: "custom", path: ["bootstrapServers"], message: "required with --protocol kafka, e.g. 127.0.0.1:9092 (npm run emulator prints it)" });
    if (!options.connectionString) ctx.addIssue({ code: "custom", path: ["connectionString"], message: KAFKA_NOT_WITH_NAMESPACE });
  }
});

function buildCommand(): Command {
  return new Command("send")
    .description(
      "Sends sample customer messages (JSON, contentType application/json) to an event hub, rate-limited and batched.\n" +
        "Connection: EVENTHUB_CONNECTION_STRING (Send rights), or EVENTHUB_NAMESPACE with DefaultAzureCredential; EVENTHUB_NAME.\n" +
        "--protocol kafka sends with kafkajs to KAFKA_BOOTSTRAP_SERVERS (SASL/PLAIN, the connection string as password).",
    )
    .option("--count <n>", "events to send", "1000")
    .option("--rate <r>", "events per second (0 = as fast as possible)", "200")
    .addOption(new Option("--partition-key-mode <mode>", "none: service assigns; round-robin: cycle partition ids; random: random customer key").choices(PARTITION_KEY_MODES).default("none"))
    .option("--poison-every <k>", "every k-th event is poison (cut-off JSON); 0 = none", "0")
    .addOption(new Option("--protocol <protocol>", "amqp: the Event Hubs SDK; kafka: kafkajs on the Kafka endpoint").choices(PROTOCOLS).default("amqp"))
    .addOption(new Option("--bootstrap-servers <host:port>", "Kafka endpoint (with --protocol kafka)").env("KAFKA_BOOTSTRAP_SERVERS"))
    .addOption(new Option("--connection-string <cs>", "Event Hubs connection string").env("EVENTHUB_CONNECTION_STRING"))
    .addOption(new Option("--namespace <fqns>", "fully qualified namespace (DefaultAzureCredential)").env("EVENTHUB_NAMESPACE"))
    .addOption(new Option("--eventhub-name <name>", "event hub name (optional with EntityPath)").env("EVENTHUB_NAME"));
}

async function main(): Promise<void> {
  const options = optionsOrExit({
    command: buildCommand(),
    schema: cliSchema,
    title: "Invalid send options",
    secrets: ["connectionString"],
  });
  // With an OTEL_* exporter configured, the SDK starts a trace per event and stamps it (Diagnostic-Id) for the worker.
  const tracing = await startTracing("eventhubs-sample-producer");
  let target: SendTarget;
  let eventHubName: string;
  try {
    if (options.protocol === "kafka") {
      const kafka = await connectKafkaTarget({ bootstrapServers: options.bootstrapServers ?? "", connectionString: options.connectionString ?? "", eventHubName: options.eventhubName });
      target = kafka;
      eventHubName = kafka.topic;
    } else {
      const producer = await connectAmqpProducer(options);
      target = amqpTarget(producer);
      eventHubName = producer.eventHubName;
    }
  } catch (error) {
    process.stderr.write(`send failed: ${errorFields(error).message}\n`);
    process.exitCode = 1;
    await tracing?.shutdown();
    return;
  }
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  process.once("SIGTERM", () => abort.abort());
  let lastReport = 0;
  try {
    const summary = await sendEvents(target, {
      count: options.count,
      rate: options.rate,
      partitionKeyMode: options.partitionKeyMode,
      poisonEvery: options.poisonEvery,
      signal: abort.signal,
      onProgress: (sent) => {
        if (Date.now() - lastReport < 1000) return;
        lastReport = Date.now();
        process.stderr.write(`sent ${sent}/${options.count}\n`);
      },
    });
    process.stdout.write(`${JSON.stringify({ eventHubName, protocol: options.protocol, ...summary })}\n`);
  } catch (error) {
    if (!abort.signal.aborted) {
      process.stderr.write(`send failed: ${errorFields(error).message}\n`);
      process.exitCode = 1;
    }
  } finally {
    await target.close();
    await tracing?.shutdown();
  }
}

type CliOptions = z.infer<typeof cliSchema>;

/** The SDK producer, after one management call: a wrong key or hub is reported at once, not after every send's retries. */
async function connectAmqpProducer(options: CliOptions): Promise<EventHubProducerClient> {
  let producer: EventHubProducerClient;
  try {
    producer = options.connectionString
      ? options.eventhubName
        ? new EventHubProducerClient(options.connectionString, options.eventhubName, { retryOptions: SEND_RETRY })
        : new EventHubProducerClient(options.connectionString, { retryOptions: SEND_RETRY })
      : new EventHubProducerClient(options.namespace ?? "", options.eventhubName ?? "", new DefaultAzureCredential(), { retryOptions: SEND_RETRY });
  } catch (error) {
    // The SDK validates the connection string and hub name as it builds the client.
    const setting = options.connectionString ? "EVENTHUB_CONNECTION_STRING (--connection-string)" : "EVENTHUB_NAMESPACE (--namespace)";
    exitWithProblems("Invalid send options", [`${setting}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const access = await probeEventHub(producer, 60_000);
  if (access) {
    await producer.close();
    throw new Error(access.kind === "unauthorized" ? `Event Hubs refused the credentials (${access.detail})` : access.detail);
  }
  return producer;
}

if (require.main === module) void main();
