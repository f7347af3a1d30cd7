// The sample producer over Kafka: kafkajs on the Event Hubs Kafka endpoint (SASL/PLAIN, username
// `$ConnectionString`, the connection string as password), as an idempotent producer (the default of
// librdkafka-based clients and the Java client). Event Hubs does not carry AMQP properties over Kafka,
// so an event's properties become headers and its body the value; a partition key becomes the Kafka key
// (the client's partitioner then keeps one key in one partition), a partition id the Kafka partition.
import type { EventData } from "@azure/event-hubs";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Destination, SendTarget } from "./send-target";

export const KAFKA_NOT_WITH_NAMESPACE = "required with --protocol kafka: it is the SASL/PLAIN password (EVENTHUB_NAMESPACE with Entra ID is AMQP only here)";

export interface KafkaTargetOptions {
  /** host:port[,host:port...] */
  bootstrapServers: string;
  connectionString: string;
  /** Defaults to the connection string's EntityPath. */
  eventHubName: string | undefined;
}

export interface KafkaTarget extends SendTarget {
  topic: string;
}

function entityPathOf(connectionString: string): string | undefined {
  return /(?:^|;)\s*EntityPath=([^;]+)/i.exec(connectionString)?.[1]?.trim();
}

/** kafkajs 2.2 schedules a timer at (-1 - now) ms when unthrottled, which Node 23+ reports as a warning each run. */
function quietKafkajsTimerWarning(): void {
  const defaults = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") for (const listener of defaults) listener(warning);
  });
}

function kafkaMessage(event: EventData, destination: Destination) {
  const headers = Object.fromEntries(Object.entries(event.properties ?? {}).map(([name, value]) => [name, String(value)]));
  if (event.contentType !== undefined) headers["content-type"] = event.contentType;
  if (event.messageId !== undefined) headers["message-id"] = String(event.messageId);
  return {
    value: Buffer.isBuffer(event.body) ? event.body : Buffer.from(JSON.stringify(event.body)),
    headers,
    ...(destination.partitionKey === undefined ? {} : { key: destination.partitionKey }),
    ...(destination.partitionId === undefined ? {} : { partition: Number(destination.partitionId) }),
  };
}

/** Connects an idempotent kafkajs producer and checks the topic exists, so a wrong key or hub fails at once. */
export async function connectKafkaTarget(options: KafkaTargetOptions): Promise<KafkaTarget> {
  const topic = options.eventHubName ?? entityPathOf(options.connectionString);
  if (!topic) throw new Error("EVENTHUB_NAME (--eventhub-name) is required unless the connection string has EntityPath");
  quietKafkajsTimerWarning();
  const kafka = new Kafka({
    clientId: "eventhubs-sample-producer",
    brokers: options.bootstrapServers.split(","),
    sasl: { mechanism: "plain", username: "$ConnectionString", password: options.connectionString },
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 300 },
  });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  let partitionIds: string[];
  try {
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    partitionIds = (metadata.topics[0]?.partitions ?? []).map((p) => String(p.partitionId)).sort((a, b) => Number(a) - Number(b));
    await producer.connect();
  } catch (error) {
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
    throw new Error(`the Kafka endpoint at ${options.bootstrapServers} refused '${topic}': ${(error as Error).message}`);
  }
  await admin.disconnect();
  return {
    topic,
    partitionIds: async () => partitionIds,
    send: async (events, destination) => {
      await producer.send({ topic, acks: -1, messages: events.map((event) => kafkaMessage(event, destination)) });
      return 1;
    },
    close: () => producer.disconnect(),
  };
}
