// Wires one worker process: storage, processor, sink, dead letters, the load-balanced subscription and telemetry.
import type { TokenCredential } from "@azure/core-auth";
import {
  EventHubConsumerClient,
  earliestEventPosition,
  latestEventPosition,
  type PartitionContext,
  type Subscription,
} from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { Logger } from "pino";
import { BatchProcessor } from "./batch-processor";
import type { ProcessorConfig, SinkConfig, WorkerConfig } from "./config";
import { BlobDeadLetterStore } from "./dead-letter";
import { probeEventHub, type AccessProblem } from "./event-hubs-access";
import { writeInitialCheckpoints } from "./initial-checkpoints";
import { OwnershipTracker } from "./ownership-tracker";
import { PartitionHandler } from "./partition-handler";
import { createProcessor, type ProcessorOptions } from "./processing/create-processor";
import type { ModelEndpoint } from "./processing/model/model-endpoint";
import { ProcessingPool } from "./processing/pool";
import { createSink, type SinkOptions } from "./sinks/create-sink";
import type { Sink } from "./sinks/sink";
import { startTelemetryServer, type Readiness, type TelemetryServer } from "./telemetry/http-server";
import { errorFields } from "./telemetry/logger";
import { WorkerMetrics } from "./telemetry/metrics";
import { exportPrometheusMetrics } from "./telemetry/metrics-export";
import { trackedDeadLetters, trackedSink, WriteHealth } from "./write-health";

export interface RunningWorker {
  readonly metricsPort: number;
  /** The subscription's processor id (the ownerid in ownership blobs), once it has claimed a partition. */
  ownerId(): string | undefined;
  ownedPartitions(): string[];
  /** Drain, checkpoint, release ownership, close everything. Never throws; logs each step. */
  stop(): Promise<void>;
}

/** A storage or configuration problem found before consuming; the CLI prints it and exits. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** DefaultAzureCredential is created only if some setting needs Entra ID, and only once. */
function lazyCredential(): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => (credential ??= new DefaultAzureCredential());
}

/** Adds what settings cannot hold: the Entra ID credential, the metrics, and a log line per circuit change. */
export function toProcessorOptions(
  config: ProcessorConfig,
  credential: () => TokenCredential,
  metrics: WorkerMetrics,
  logger: Logger,
  onEndpoint: (endpoint: ModelEndpoint) => void = () => undefined,
): ProcessorOptions {
  if (config.kind !== "model") return config;
  const { connection } = config.endpoint;
  const needsCredential = connection.provider === "azure-openai" && connection.apiKey === undefined;
  return {
    ...config,
    endpoint: { ...config.endpoint, connection: needsCredential ? { ...connection, credential: credential() } : connection, telemetry: metrics.modelTelemetry },
    onEndpoint: (endpoint) => {
      metrics.observeModel(endpoint);
      endpoint.onCircuitChange((state) => {
        const message = {
          open: "model circuit open: the model failed repeatedly; holding requests, events wait (none are dead-lettered)",
          "half-open": "model circuit half-open: probing the model with one request",
          closed: "model circuit closed: the model answers again",
        }[state];
        logger[state === "closed" ? "info" : "warn"]({ model: endpoint.model, circuit: state }, message);
      });
      onEndpoint(endpoint);
    },
  };
}

export function toSinkOptions(
  config: SinkConfig,
  blobService: BlobServiceClient,
  credential: () => TokenCredential,
): SinkOptions {
  switch (config.kind) {
    case "stdout":
      return config;
    case "blob":
      return { kind: "blob", containerClient: blobService.getContainerClient(config.container), prefix: config.prefix };
    case "eventhub":
      return config.connectionString ? config : { ...config, credential: credential() };
  }
}

async function ensureContainer(container: ContainerClient, create: boolean, setting: string): Promise<void> {
  try {
    if (create) {
      await container.createIfNotExists();
      return;
    }
    if (await container.exists()) return;
  } catch (error) {
    throw new StartupError(
      `cannot reach container "${container.containerName}" at ${container.url} (${setting}): ${errorFields(error).message}`,
    );
  }
  throw new StartupError(
    `container "${container.containerName}" does not exist at ${container.url} (${setting}); create it, or set CREATE_CONTAINERS=true`,
  );
}

/** Reachability of the checkpoint container, re-checked at most every few seconds. */
function cachedReachability(container: ContainerClient, ttlMs: number): () => Promise<boolean> {
  let checkedAt = 0;
  let reachable = false;
  let inFlight: Promise<boolean> | undefined;
  return async () => {
    if (Date.now() - checkedAt < ttlMs) return reachable;
    inFlight ??= container
      .exists({ abortSignal: AbortSignal.timeout(ttlMs) })
      .catch(() => false)
      .then((result) => {
        reachable = result;
        checkedAt = Date.now();
        inFlight = undefined;
        return result;
      });
    return inFlight;
  };
}

function accessProblemMessage(access: AccessProblem, where: string): string {
  return access.kind === "unauthorized"
    ? `Event Hubs refused the worker's Entra ID token for ${where}: it needs the Azure Event Hubs Data Receiver role there. New role assignments can take minutes to apply, so the worker keeps trying and is not ready meanwhile`
    : `cannot reach ${where}; the worker keeps trying and is not ready until it receives`;
}

export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  const credential = lazyCredential();
  const { eventHub, storage } = config;
  const blobService = storage.connectionString
    ? BlobServiceClient.fromConnectionString(storage.connectionString)
    : new BlobServiceClient(storage.accountUrl ?? "", credential());
  const checkpointContainer = blobService.getContainerClient(storage.checkpointContainer);
  const deadLetterContainer = blobService.getContainerClient(storage.deadLetterContainer);
  await ensureContainer(checkpointContainer, storage.createContainers, "CHECKPOINT_CONTAINER");
  await ensureContainer(deadLetterContainer, storage.createContainers, "DEAD_LETTER_CONTAINER");

  // Metrics first: the model endpoint reports to them. The pool's queue gauge reads the processor made below.
  let poolQueue: (() => number) | undefined;
  const metrics = new WorkerMetrics({ queueDepth: () => poolQueue?.() });
  let modelEndpoint: ModelEndpoint | undefined;
  const processor = await createProcessor(toProcessorOptions(config.processor, credential, metrics, logger, (endpoint) => (modelEndpoint = endpoint)));
  if (processor instanceof ProcessingPool) poolQueue = () => processor.queued;
  exportPrometheusMetrics(metrics.registry); // every metric is registered by now
  const closers: Array<[string, () => Promise<void>]> = [["processor", () => processor.close()]];
  let sink: Sink;
  try {
    sink = await createSink(toSinkOptions(config.sink, blobService, credential));
  } catch (error) {
    await processor.close();
    throw error;
  }
  closers.push(["sink", () => sink.close()]);

  const ownership = new OwnershipTracker(new BlobCheckpointStore(checkpointContainer), config.loadBalancing.ownershipExpirationMs);
  // Failed writes are retried at least every RETRY_MAX_DELAY_MS; one not retried for much longer belongs to a closed partition.
  const writeStaleAfterMs = Math.max(60_000, 3 * config.retry.maxDelayMs);
  const sinkHealth = new WriteHealth(`sink (${config.sink.kind})`, writeStaleAfterMs);
  const deadLetterHealth = new WriteHealth(`dead-letter container "${storage.deadLetterContainer}"`, writeStaleAfterMs);
  const batches = new BatchProcessor({
    processor,
    sink: trackedSink(sink, sinkHealth),
    deadLetters: trackedDeadLetters(
      new BlobDeadLetterStore(deadLetterContainer, { eventHubName: eventHub.eventHubName, consumerGroup: eventHub.consumerGroup }),
      deadLetterHealth,
    ),
    retry: config.retry,
    eventHubName: eventHub.eventHubName,
    consumerGroup: eventHub.consumerGroup,
    logger,
  });
  const handler = new PartitionHandler({
    batches,
    ownership,
    schedule: config.checkpoint,
    storageRetry: config.retry,
    batchRetry: config.retry,
    metrics,
    logger,
  });

  const clientOptions = {
    loadBalancingOptions: {
      strategy: config.loadBalancing.strategy,
      updateIntervalInMs: config.loadBalancing.updateIntervalMs,
      partitionOwnershipExpirationIntervalInMs: config.loadBalancing.ownershipExpirationMs,
    },
    retryOptions: eventHub.retry,
  };
  const client = eventHub.connectionString
    ? new EventHubConsumerClient(eventHub.consumerGroup, eventHub.connectionString, eventHub.eventHubName, ownership, clientOptions)
    : new EventHubConsumerClient(
        eventHub.consumerGroup,
        eventHub.fullyQualifiedNamespace ?? "",
        eventHub.eventHubName,
        credential(),
        ownership,
        clientOptions,
      );

  ownership.onChange((owned) => {
    metrics.ownedPartitions.set(owned.length);
    logger.info({ ownerId: ownership.id, ownedPartitions: owned }, `owned partitions: ${owned.join(", ") || "none"}`);
  });

  const access = await probeEventHub(client, eventHub.retry.timeoutInMs);
  const where = `event hub "${eventHub.eventHubName}" at ${client.fullyQualifiedNamespace}`;
  // A wrong SAS key or hub name never fixes itself: stop with the reason. A new Entra ID role assignment
  // can take minutes to apply, and an unreachable namespace may come back: keep trying, not ready.
  if (access?.kind === "hub-not-found" || (access?.kind === "unauthorized" && eventHub.connectionString)) {
    await client.close().catch(() => undefined);
    for (const [, close] of closers) await close().catch(() => undefined);
    throw new StartupError(
      access.kind === "unauthorized"
        ? `Event Hubs refused the credentials of EVENTHUB_CONNECTION_STRING for ${where} (${access.detail}); check its SharedAccessKeyName, SharedAccessKey and Listen rights`
        : `${where} does not exist (EVENTHUB_NAME, or the connection string's EntityPath): ${access.detail}`,
    );
  }
  if (access) logger.error({ problem: access.kind, err: access.detail }, accessProblemMessage(access, where));
  let subscriptionError: { at: number; detail: string } | undefined;

  try {
    const initial = await writeInitialCheckpoints({
      client,
      consumerGroup: eventHub.consumerGroup,
      checkpointContainer,
      startPosition: config.subscription.startPosition,
    });
    if (initial.written.length > 0) logger.info({ written: initial.written }, "initial checkpoints written for never-checkpointed partitions");
  } catch (error) {
    // Only autoscaling accuracy depends on them; consuming works without.
    logger.warn({ err: errorFields(error) }, "could not write initial checkpoints");
  }

  const handlers = {
    ...handler.handlers,
    // Errors outside any partition come from the load-balancing loop: while they last, nothing is received.
    processError: async (error: Error, context: PartitionContext) => {
      if (context.partitionId === "") {
        const fields = errorFields(error);
        subscriptionError = { at: Date.now(), detail: `${fields.name}: ${fields.message}` };
      }
      await handler.handlers.processError(error, context);
    },
  };
  const subscription: Subscription = client.subscribe(handlers, {
    maxBatchSize: config.subscription.maxBatchSize,
    maxWaitTimeInSeconds: config.subscription.maxWaitTimeMs / 1000,
    prefetchCount: config.subscription.prefetchCount,
    startPosition: config.subscription.startPosition === "earliest" ? earliestEventPosition : latestEventPosition,
    trackLastEnqueuedEventProperties: true,
    // The batch processor decodes bodies itself, by content type; an undecodable one is dead-lettered.
    skipParsingBodyAsJson: true,
  });

  const checkpointStoreReachable = cachedReachability(checkpointContainer, 5000);
  const readiness = async (): Promise<Readiness> => {
    const reasons: string[] = [];
    if (!subscription.isRunning) reasons.push("subscription not running");
    const listedAt = ownership.lastListedAt;
    if (subscriptionError && (listedAt === undefined || listedAt < subscriptionError.at)) {
      reasons.push(`cannot receive from ${where}: ${subscriptionError.detail}`);
    } else if (listedAt === undefined) {
      reasons.push(`not receiving yet: no load-balancing round has completed for ${where}${access ? ` (at start: ${access.detail})` : ""}`);
    }
    if (!(await checkpointStoreReachable())) reasons.push(`checkpoint container "${storage.checkpointContainer}" unreachable`);
    if (modelEndpoint && modelEndpoint.snapshot().circuit !== "closed") reasons.push(`model "${modelEndpoint.model}" unavailable: circuit open, events wait`);
    for (const health of [sinkHealth, deadLetterHealth]) {
      const problem = health.problem();
      if (problem) reasons.push(problem);
    }
    return { ready: reasons.length === 0, reasons };
  };
  let server: TelemetryServer;
  try {
    server = await startTelemetryServer({
      host: config.metrics.host,
      port: config.metrics.port,
      registry: metrics.registry,
      readiness,
      ownership: () => ({ ownerId: ownership.id, ownedPartitions: ownership.ownedPartitions() }),
    });
  } catch (error) {
    await subscription.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    for (const [, close] of closers) await close().catch(() => undefined);
    throw new StartupError(`cannot listen on ${config.metrics.host}:${config.metrics.port} (METRICS_PORT): ${errorFields(error).message}`);
  }
  logger.info(
    {
      metricsPort: server.port,
      eventHubName: eventHub.eventHubName,
      consumerGroup: eventHub.consumerGroup,
      fullyQualifiedNamespace: client.fullyQualifiedNamespace,
      processor: processor.name,
      sink: config.sink.kind,
    },
    `worker started; metrics on http://${config.metrics.host}:${server.port}/metrics`,
  );

  const step = async (name: string, action: () => Promise<void>) => {
    const started = Date.now();
    try {
      await action();
      logger.info({ step: name, ms: Date.now() - started }, `shutdown: ${name} done`);
    } catch (error) {
      logger.error({ step: name, err: errorFields(error) }, `shutdown: ${name} failed`);
    }
  };

  return {
    metricsPort: server.port,
    ownerId: () => ownership.id,
    ownedPartitions: () => ownership.ownedPartitions(),
    async stop() {
      await step("drain in-flight batches and checkpoint", () => handler.drain());
      await step("close subscription (release ownership)", () => subscription.close());
      await step("close event hubs client", () => client.close());
      for (const [name, close] of closers) await step(`close ${name}`, close);
      await step("close metrics server", () => server.close());
    },
  };
}
