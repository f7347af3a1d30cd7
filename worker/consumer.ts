// Wires one worker process: storage, processor, sink, dead letters, the load-balanced subscription, the fleet and telemetry.
import { randomUUID } from "node:crypto";
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
import type { ContainerClient } from "@azure/storage-blob";
import type { Meter } from "@opentelemetry/api";
import type { Logger } from "pino";
import { BatchPipeline } from "./batch-pipeline";
import type { WorkerConfig } from "./config";
import { BlobDeadLetterStore } from "./dead-letter";
import { probeEventHub, type AccessProblem } from "./event-hubs-access";
import { ExclusiveClaimStore } from "./exclusive-claim-store";
import { NO_TRACING, type Tracing } from "./observability";
import type { QuotaParticipant } from "./fleet/fleet-coordinator";
import { joinFleet, type FleetMembership } from "./fleet/join-fleet";
import { writeInitialCheckpoints } from "./initial-checkpoints";
import { OwnershipTracker } from "./ownership-tracker";
import { withRetry, type RetryPolicy } from "./retry";
import { PartitionHandler } from "./partition-handler";
import type { PluginRuntime } from "./plugins";
import { startProcessor } from "./processing/index";
import { startSink } from "./sinks/index";
import type { Sink } from "./sinks/sink";
import { createBlobService } from "./storage-clients";
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

/** A storage answer that retrying cannot change: a 4xx other than a timeout or throttling (a wrong key, no rights). */
function isRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The storage client makes one try per call (storage-clients.ts), so storage that cannot be reached at start-up
 * is retried here, with the worker's backoff, for as long as it takes (an outage makes the worker wait; each
 * retry is logged with the reason). A refusal (a wrong key, no rights) stops start-up at once with the reason.
 */
async function ensureContainer(container: ContainerClient, create: boolean, setting: string, retry: RetryPolicy, logger: Logger): Promise<void> {
  try {
    const exists = await withRetry(async () => (create ? (await container.createIfNotExists(), true) : container.exists()), retry, {
      attempts: Infinity,
      isRetryable: (error) => !isRefusal(error),
      onRetry: (error, attempt, delayMs) =>
        logger.warn({ container: container.containerName, attempt, delayMs, err: errorFields(error) }, `cannot reach container "${container.containerName}" yet; retrying`),
    });
    if (exists) return;
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

/** Where the worker's spans and metrics go besides /metrics: startTracing's, when tracing is on. */
export interface WorkerTelemetry {
  tracing?: Tracing;
  meter?: Meter;
}

export async function startWorker(config: WorkerConfig, logger: Logger, telemetry: WorkerTelemetry = {}): Promise<RunningWorker> {
  const { tracing = NO_TRACING, meter } = telemetry;
  const credential = lazyCredential();
  const { eventHub, storage } = config;
  const blobService = createBlobService(storage, credential);
  const checkpointContainer = blobService.getContainerClient(storage.checkpointContainer);
  const deadLetterContainer = blobService.getContainerClient(storage.deadLetterContainer);
  await ensureContainer(checkpointContainer, storage.createContainers, "CHECKPOINT_CONTAINER", config.retry, logger);
  await ensureContainer(deadLetterContainer, storage.createContainers, "DEAD_LETTER_CONTAINER", config.retry, logger);

  // Metrics first: processors report to them. The queue gauge reads the processor made below.
  let queued: () => number | undefined = () => undefined;
  const metrics = new WorkerMetrics({ queueDepth: () => queued() });
  const quotas: QuotaParticipant[] = [];
  const runtime: PluginRuntime = { credential, blobService, metrics, tracing, logger, shareQuotas: (participants) => quotas.push(...participants) };
  const processor = await startProcessor(config.processor, runtime);
  queued = () => processor.queued;
  if (meter) exportPrometheusMetrics(metrics.registry, meter); // every metric is registered by now
  const closers: Array<[string, () => Promise<void>]> = [["processor", () => processor.close()]];
  let sink: Sink;
  try {
    sink = await startSink(config.sink, runtime);
  } catch (error) {
    await processor.close();
    throw error;
  }
  closers.push(["sink", () => sink.close()]);

  // This process's name in ownership records and fleet records alike.
  const replica = randomUUID();
  const store = new ExclusiveClaimStore(new BlobCheckpointStore(checkpointContainer), checkpointContainer);
  const ownership = new OwnershipTracker(store, config.loadBalancing.ownershipExpirationMs, Date.now, replica);
  // Failed writes are retried at least every RETRY_MAX_DELAY_MS; one not retried for much longer belongs to a closed partition.
  const writeStaleAfterMs = Math.max(60_000, 3 * config.retry.maxDelayMs);
  const sinkHealth = new WriteHealth(`sink (${config.sink.kind})`, writeStaleAfterMs);
  const deadLetterHealth = new WriteHealth(`dead-letter container "${storage.deadLetterContainer}"`, writeStaleAfterMs);
  const batches = new BatchPipeline({
    processor,
    sink: trackedSink(sink, sinkHealth),
    deadLetters: trackedDeadLetters(
      new BlobDeadLetterStore(deadLetterContainer, { eventHubName: eventHub.eventHubName, consumerGroup: eventHub.consumerGroup }),
      deadLetterHealth,
    ),
    retry: config.retry,
    eventHubName: eventHub.eventHubName,
    consumerGroup: eventHub.consumerGroup,
    tracing,
    logger,
  });
  const handler = new PartitionHandler({
    batches,
    ownership,
    schedule: config.checkpoint,
    storageRetry: config.retry,
    batchRetry: config.retry,
    metrics,
    tracing,
    logger,
  });

  const clientOptions = {
    identifier: replica,
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
    // Taken by another worker: its queued events are dropped at once instead of being paid for twice.
    for (const partition of handler.activePartitions()) if (!owned.includes(partition)) handler.lost(partition);
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

  let fleet: FleetMembership | undefined;
  if (config.fleet.coordination) {
    const partitionIds = access ? undefined : await client.getPartitionIds({ abortSignal: AbortSignal.timeout(eventHub.retry.timeoutInMs) }).catch(() => undefined);
    fleet = await joinFleet({
      replica,
      container: checkpointContainer,
      scope: { fullyQualifiedNamespace: client.fullyQualifiedNamespace, eventHubName: eventHub.eventHubName, consumerGroup: eventHub.consumerGroup },
      partitionCount: partitionIds?.length,
      syncIntervalMs: config.fleet.syncIntervalMs,
      loadBalancing: config.loadBalancing,
      quotas,
      ownership,
      handler,
      logger,
    });
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
    // The batch pipeline decodes bodies itself, by content type; an undecodable one is dead-lettered.
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
    const processorProblem = processor.unavailable?.();
    if (processorProblem) reasons.push(processorProblem);
    for (const health of [sinkHealth, deadLetterHealth]) {
      const problem = health.problem();
      if (problem) reasons.push(problem);
    }
    const notes = [...(processor.degraded?.() ?? [])];
    const fleetNote = fleet?.note();
    if (fleetNote) notes.push(fleetNote);
    return { ready: reasons.length === 0, reasons, notes };
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
      // The calls already made finish (so none is paid twice); what still runs at 60% of the shutdown timeout is
      // abandoned, leaving time to checkpoint and release.
      await step("drain: finish the events already sent, commit and checkpoint", () => handler.drain(Math.floor(config.shutdownTimeoutMs * 0.6)));
      if (fleet) await step("leave the fleet (the others take this replica's quota shares)", () => (fleet as FleetMembership).stop());
      await step("close subscription (release ownership)", () => subscription.close());
      await step("close event hubs client", () => client.close());
      for (const [name, close] of closers) await step(`close ${name}`, close);
      await step("close metrics server", () => server.close());
    },
  };
}
