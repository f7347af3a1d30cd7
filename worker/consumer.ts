// Wires one worker process: storage, sink, processor, dead letters, the load-balanced subscription, the fleet and
// telemetry. What it checks before consuming is in startup-checks.ts, when it is ready in readiness.ts; whatever it
// has started is closed through one stack (closers.ts), by a failed start-up and by stop() alike.
import { randomUUID } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { EventHubConsumerClient, earliestEventPosition, latestEventPosition } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import type { Meter } from "@opentelemetry/api";
import type { Logger } from "pino";
import { BatchPipeline } from "./batch-pipeline";
import { Closers } from "./closers";
import type { WorkerConfig } from "./config";
import { BlobDeadLetterStore } from "./dead-letter";
import { ExclusiveClaimStore } from "./exclusive-claim-store";
import type { QuotaParticipant } from "./fleet/fleet-coordinator";
import { joinFleet } from "./fleet/join-fleet";
import { writeInitialCheckpoints } from "./initial-checkpoints";
import { NO_TRACING, type Tracing } from "./observability";
import { OwnershipTracker } from "./ownership-tracker";
import { PartitionHandler } from "./partition-handler";
import type { PluginRuntime } from "./plugins";
import { startProcessor } from "./processing/index";
import type { Processor } from "./processing/processor";
import { readinessRules, watchLoadBalancing } from "./readiness";
import { boundReceiverCredit } from "./receiver-credit";
import { startSink } from "./sinks/index";
import { checkEventHubAccess, ensureContainer, StartupError } from "./startup-checks";
import { createBlobService } from "./storage-clients";
import { startTelemetryServer } from "./telemetry/http-server";
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

/**
 * DefaultAzureCredential is created only if some setting needs Entra ID, and only once; its package (MSAL and
 * its dependencies, megabytes of code) is loaded only then, so a worker on connection strings does not carry it.
 */
function lazyCredential(): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => (credential ??= new (require("@azure/identity") as typeof import("@azure/identity")).DefaultAzureCredential());
}

/** The load-balanced client, named `replica`, with its ownership kept through `ownership`. */
function consumerClient(config: WorkerConfig, replica: string, ownership: OwnershipTracker, credential: () => TokenCredential): EventHubConsumerClient {
  boundReceiverCredit(); // idle partitions must not pile up link credit (see receiver-credit.ts)
  const { eventHub, loadBalancing } = config;
  const clientOptions = {
    identifier: replica,
    loadBalancingOptions: {
      strategy: loadBalancing.strategy,
      updateIntervalInMs: loadBalancing.updateIntervalMs,
      partitionOwnershipExpirationIntervalInMs: loadBalancing.ownershipExpirationMs,
    },
    retryOptions: eventHub.retry,
  };
  return eventHub.connectionString
    ? new EventHubConsumerClient(eventHub.consumerGroup, eventHub.connectionString, eventHub.eventHubName, ownership, clientOptions)
    : new EventHubConsumerClient(eventHub.consumerGroup, eventHub.fullyQualifiedNamespace ?? "", eventHub.eventHubName, credential(), ownership, clientOptions);
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

  const closers = new Closers(logger);
  try {
    // Metrics first: processors report to them. The pool gauges read the processor made below.
    let pool: Pick<Processor, "queued" | "threadsRunning"> = {};
    const metrics = new WorkerMetrics({ queueDepth: () => pool.queued, processingThreads: () => pool.threadsRunning });
    const quotas: QuotaParticipant[] = [];
    const runtime: PluginRuntime = { credential, blobService, metrics, tracing, logger, shareQuotas: (participants) => quotas.push(...participants) };
    // The sink before the processor that feeds it, so that the processor is closed first.
    const sink = await startSink(config.sink, runtime);
    closers.push("close sink", () => sink.close());
    const processor = await startProcessor(config.processor, runtime);
    closers.push("close processor", () => processor.close());
    pool = processor;
    if (meter) exportPrometheusMetrics(metrics.registry, meter); // every metric is registered by now

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

    const client = consumerClient(config, replica, ownership, credential);
    closers.push("close event hubs client", () => client.close());

    ownership.onChange((owned) => {
      metrics.ownedPartitions.set(owned.length);
      logger.info({ ownerId: ownership.id, ownedPartitions: owned }, `owned partitions: ${owned.join(", ") || "none"}`);
      // Taken by another worker: its queued events are dropped at once instead of being paid for twice.
      for (const partition of handler.activePartitions()) if (!owned.includes(partition)) handler.lost(partition);
    });

    const where = `event hub "${eventHub.eventHubName}" at ${client.fullyQualifiedNamespace}`;
    const access = await checkEventHubAccess(client, { where, usesConnectionString: eventHub.connectionString !== undefined, timeoutMs: eventHub.retry.timeoutInMs, logger });

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

    const partitionCount = async () =>
      access ? undefined : (await client.getPartitionIds({ abortSignal: AbortSignal.timeout(eventHub.retry.timeoutInMs) }).catch(() => undefined))?.length;
    const fleet = config.fleet.coordination
      ? await joinFleet({
          replica,
          container: checkpointContainer,
          scope: { fullyQualifiedNamespace: client.fullyQualifiedNamespace, eventHubName: eventHub.eventHubName, consumerGroup: eventHub.consumerGroup },
          partitionCount: await partitionCount(),
          syncIntervalMs: config.fleet.syncIntervalMs,
          loadBalancing: config.loadBalancing,
          quotas,
          ownership,
          handler,
          logger,
        })
      : undefined;

    const loadBalancing = watchLoadBalancing(handler.handlers);
    const subscription = client.subscribe(loadBalancing.handlers, {
      maxBatchSize: config.subscription.maxBatchSize,
      maxWaitTimeInSeconds: config.subscription.maxWaitTimeMs / 1000,
      prefetchCount: config.subscription.prefetchCount,
      startPosition: config.subscription.startPosition === "earliest" ? earliestEventPosition : latestEventPosition,
      trackLastEnqueuedEventProperties: true,
      // The batch pipeline decodes bodies itself, by content type; an undecodable one is dead-lettered.
      skipParsingBodyAsJson: true,
    });
    closers.push("close subscription (release ownership)", () => subscription.close());
    // Left before the subscription closes: the others see this replica gone before its partitions come free.
    if (fleet) closers.push("leave the fleet (the others take this replica's quota shares)", () => fleet.stop());

    const readiness = readinessRules({
      where,
      accessAtStart: access,
      subscription,
      ownership,
      loadBalancingError: loadBalancing.lastError,
      checkpointContainer,
      processor,
      writes: [sinkHealth, deadLetterHealth],
      fleet,
    });
    const server = await startTelemetryServer({
      host: config.metrics.host,
      port: config.metrics.port,
      registry: metrics.registry,
      readiness,
      ownership: () => ({ ownerId: ownership.id, ownedPartitions: ownership.ownedPartitions() }),
    }).catch((error: unknown) => {
      throw new StartupError(`cannot listen on ${config.metrics.host}:${config.metrics.port} (METRICS_PORT): ${errorFields(error).message}`);
    });
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

    return {
      metricsPort: server.port,
      ownerId: () => ownership.id,
      ownedPartitions: () => ownership.ownedPartitions(),
      async stop() {
        // The calls already made finish (so none is paid twice); what still runs at 60% of the shutdown timeout is
        // abandoned, leaving time to checkpoint and release.
        await closers.step("drain: finish the events already sent, commit and checkpoint", () => handler.drain(Math.floor(config.shutdownTimeoutMs * 0.6)));
        await closers.closeAll();
        // Last: /metrics, /readyz and /status answer through the whole shutdown.
        await closers.step("close metrics server", () => server.close());
      },
    };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}
