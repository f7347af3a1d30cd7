// One call starts the whole local stack (the Event Hubs emulator with its AMQP and Kafka endpoints, and
// Azurite, with the checkpoint and dead-letter containers created) and returns what a worker needs to
// connect; one call stops them all.
import type { Logger } from "pino";
import { startAzurite } from "./azurite";
import { checkpointContainerName, DEAD_LETTER_CONTAINER, DEFAULT_CONSUMER_GROUP } from "../common/names";
import type { WorkerEnvironment } from "../worker/index";
import { type EmulatorConfig, type EmulatorConfigInput, parseEmulatorConfig } from "./config";
import { KafkaServer } from "./kafka/server";
import { defaultLogger, EventHubsEmulator } from "./server";

export interface LocalStackOptions {
  /** Interface both servers listen on; default 127.0.0.1. */
  host?: string;
  /** Default 0 = pick a free port. */
  eventHubsPort?: number;
  /** Default 0 = pick a free port. */
  blobPort?: number;
  /** Kafka endpoint (SASL_PLAINTEXT); default 0 = pick a free port. */
  kafkaPort?: number;
  /** Hubs, partitions, consumer groups, keys...; our shape or Microsoft's Config.json shape. */
  config?: EmulatorConfigInput | Record<string, unknown>;
  /** Persist events (dataDir/eventhubs) and blobs (dataDir/blob) on disk; default in memory. */
  dataDir?: string;
  logger?: Logger;
}

export interface LocalStack {
  /** Namespace-level, no EntityPath. */
  eventHubConnectionString: string;
  /** The first configured hub. */
  eventHubName: string;
  /** The first hub's first configured consumer group, else $Default. */
  consumerGroup: string;
  storageConnectionString: string;
  /** e.g. http://127.0.0.1:10000/devstoreaccount1 */
  storageAccountUrl: string;
  checkpointContainer: string;
  deadLetterContainer: string;
  config: EmulatorConfig;
  emulator: EventHubsEmulator;
  eventHubsPort: number;
  blobPort: number;
  kafka: KafkaServer;
  kafkaPort: number;
  /** `host:port` for Kafka clients' bootstrap.servers (printed as KAFKA_BOOTSTRAP_SERVERS; not a worker setting). */
  kafkaBootstrapServers: string;
  /** The variables the worker reads, as printed by `npm run emulator`. */
  env(): WorkerEnvironment;
  /** Stops every server; idempotent. */
  stop(): Promise<void>;
}

/** Parses the options' config (either shape) and applies `dataDir` on top. */
function resolveConfig(options: LocalStackOptions): EmulatorConfig {
  const config = parseEmulatorConfig(options.config ?? {}, "startLocalStack options.config");
  return options.dataDir === undefined ? config : parseEmulatorConfig({ ...config, dataDir: options.dataDir }, "startLocalStack options.dataDir");
}

/** Stops whichever servers started when the other failed, then rethrows the first failure. */
async function startBoth<A, B>(first: Promise<A>, second: Promise<B>, stopFirst: (a: A) => Promise<void>, stopSecond: (b: B) => Promise<void>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === "fulfilled" && b.status === "fulfilled") return [a.value, b.value];
  if (a.status === "fulfilled") await stopFirst(a.value).catch(() => undefined);
  if (b.status === "fulfilled") await stopSecond(b.value).catch(() => undefined);
  throw a.status === "rejected" ? a.reason : (b as PromiseRejectedResult).reason;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = resolveConfig(options);
  const host = options.host ?? "127.0.0.1";
  const defaultHub = config.hubs[0]!; // the schema requires at least one hub
  const consumerGroup = defaultHub.consumerGroups[0] ?? DEFAULT_CONSUMER_GROUP;
  const checkpointContainers = new Set(
    config.hubs.flatMap((hub) => [DEFAULT_CONSUMER_GROUP, ...hub.consumerGroups]).map(checkpointContainerName),
  );

  const [emulator, azurite] = await startBoth(
    EventHubsEmulator.start({ config, host, port: options.eventHubsPort ?? 0, ...(options.logger ? { log: options.logger } : {}) }),
    startAzurite({
      host,
      port: options.blobPort ?? 0,
      ...(config.dataDir ? { dataDir: config.dataDir } : {}),
      containers: [...checkpointContainers, DEAD_LETTER_CONTAINER],
    }),
    (e) => e.stop(),
    (a) => a.stop(),
  );
  let kafka: KafkaServer;
  try {
    kafka = await KafkaServer.start({ namespace: emulator.namespace, config, host, port: options.kafkaPort ?? 0, log: options.logger ?? defaultLogger() });
  } catch (error) {
    await Promise.allSettled([emulator.stop(), azurite.stop()]);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stack: LocalStack = {
    eventHubConnectionString: emulator.connectionString(),
    eventHubName: defaultHub.name,
    consumerGroup,
    storageConnectionString: azurite.connectionString,
    storageAccountUrl: azurite.blobEndpoint,
    checkpointContainer: checkpointContainerName(consumerGroup),
    deadLetterContainer: DEAD_LETTER_CONTAINER,
    config,
    emulator,
    eventHubsPort: emulator.port,
    blobPort: azurite.port,
    kafka,
    kafkaPort: kafka.port,
    kafkaBootstrapServers: kafka.bootstrapServers,
    env: () => ({
      EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString,
      EVENTHUB_NAME: stack.eventHubName,
      EVENTHUB_CONSUMER_GROUP: stack.consumerGroup,
      STORAGE_CONNECTION_STRING: stack.storageConnectionString,
      CHECKPOINT_CONTAINER: stack.checkpointContainer,
      DEAD_LETTER_CONTAINER: stack.deadLetterContainer,
    }),
    stop: () =>
      (stopping ??= (async () => {
        // Kafka first: it reads the namespace the emulator closes.
        const kafkaStopped = await Promise.allSettled([kafka.stop()]);
        const results = [...kafkaStopped, ...(await Promise.allSettled([emulator.stop(), azurite.stop()]))];
        const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failure) throw failure.reason;
      })()),
  };
  return stack;
}
