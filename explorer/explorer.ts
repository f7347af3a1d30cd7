// What the explorer knows how to do, independent of HTTP: one consumer client per hub (for properties and
// peeks, in the peek consumer group), producers made on first write, the dead-letter store, worker metrics,
// and per hub and consumer group a watch over the fleet's model quotas.
import { earliestEventPosition, latestEventPosition, type EventHubConsumerClient, type EventHubProducerClient, type EventPosition } from "@azure/event-hubs";
import type { ContainerClient } from "@azure/storage-blob";
import { checkpointContainerName } from "../common/names";
import { recordPrefix } from "../worker/index";
import { blobServiceFor, consumerFor, deadLetterContainerFor, producerFor } from "./clients";
import { readConsumerGroup, type ConsumerGroupView } from "./consumer-groups";
import { DeadLetterStore } from "./dead-letters/store";
import { readFleetRecords } from "./fleet-records";
import { readHub, ThroughputSampler, type HubView } from "./hubs";
import { EnqueuedTimes, peekEvents, type PeekedEvent } from "./peek";
import { QuotaWatch, type ModelQuotaView } from "./quota-watch";
import type { Connection } from "./settings";
import { readWorkerMetrics, type WorkerMetricsView } from "./worker-metrics";

export interface ExplorerConfig {
  connection: Connection;
  /** Hubs to show; the data plane cannot list a namespace's hubs. */
  hubs: string[];
  /** Consumer groups whose checkpoints and ownership to show. */
  consumerGroups: string[];
  /** Consumer group for peeks and enqueued-time lookups. */
  peekConsumerGroup: string;
  allowWrites: boolean;
  /** The workers' /metrics URLs; a function, because `npm run dev` learns them as workers start. */
  workerMetricsUrls: () => string[];
  /** Shown in the page header, e.g. "npm run dev". */
  title: string;
}

export class Explorer {
  readonly deadLetters: DeadLetterStore;
  readonly deadLetterContainer: ContainerClient;
  private readonly consumers = new Map<string, EventHubConsumerClient>();
  private readonly producers = new Map<string, EventHubProducerClient>();
  private readonly sampler = new ThroughputSampler();
  private readonly enqueuedTimes = new EnqueuedTimes((hub) => this.consumer(hub));
  private readonly quotaWatches = new Map<string, QuotaWatch>();
  private readonly sampling: NodeJS.Timeout;

  constructor(readonly config: ExplorerConfig) {
    this.deadLetterContainer = deadLetterContainerFor(config.connection);
    this.deadLetters = new DeadLetterStore(this.deadLetterContainer);
    // Throughput needs samples even while nobody has the page open.
    this.sampling = setInterval(() => void this.hubs().catch(() => undefined), 10_000).unref();
  }

  knowsHub(hub: string): boolean {
    return this.config.hubs.includes(hub);
  }

  knowsConsumerGroup(consumerGroup: string): boolean {
    return this.config.consumerGroups.includes(consumerGroup);
  }

  consumer(hub: string): EventHubConsumerClient {
    let client = this.consumers.get(hub);
    if (!client) this.consumers.set(hub, (client = consumerFor(this.config.connection, hub, this.config.peekConsumerGroup)));
    return client;
  }

  producer(hub: string): EventHubProducerClient {
    let client = this.producers.get(hub);
    if (!client) this.producers.set(hub, (client = producerFor(this.config.connection, hub)));
    return client;
  }

  hubs(): Promise<HubView[]> {
    return Promise.all(this.config.hubs.map((hub) => readHub(this.consumer(hub), this.sampler, this.enqueuedTimes)));
  }

  checkpointContainer(consumerGroup: string): ContainerClient {
    const { eventHub, storage } = this.config.connection;
    const name = consumerGroup === eventHub.consumerGroup ? storage.checkpointContainer : checkpointContainerName(consumerGroup);
    return blobServiceFor(this.config.connection).getContainerClient(name);
  }

  async consumerGroups(hub: HubView): Promise<ConsumerGroupView[]> {
    const client = this.consumer(hub.name);
    return Promise.all(
      this.config.consumerGroups.map((consumerGroup) =>
        readConsumerGroup({
          hub,
          consumerGroup,
          fullyQualifiedNamespace: client.fullyQualifiedNamespace,
          container: this.checkpointContainer(consumerGroup),
          enqueuedTimes: this.enqueuedTimes,
        }),
      ),
    );
  }

  /** How the fleet of a hub's consumer group uses its model deployments' quotas, from its fleet records. */
  modelQuota(hub: string, consumerGroup: string): Promise<ModelQuotaView> {
    const key = `${hub}/${consumerGroup}`;
    let watch = this.quotaWatches.get(key);
    if (!watch) {
      const container = this.checkpointContainer(consumerGroup);
      const prefix = recordPrefix(this.consumer(hub).fullyQualifiedNamespace, hub, consumerGroup);
      watch = new QuotaWatch({ read: (signal) => readFleetRecords(container, prefix, signal) });
      this.quotaWatches.set(key, watch);
    }
    return watch.view();
  }

  peek(hub: string, partitionId: string, position: PeekPosition, count: number): Promise<PeekedEvent[]> {
    return peekEvents(this.consumer(hub), partitionId, toEventPosition(position), count);
  }

  workers(): Promise<WorkerMetricsView[]> {
    return readWorkerMetrics(this.config.workerMetricsUrls());
  }

  async close(): Promise<void> {
    clearInterval(this.sampling);
    for (const watch of this.quotaWatches.values()) watch.close();
    await Promise.allSettled([...this.consumers.values(), ...this.producers.values()].map((c) => c.close()));
  }
}

export type PeekPosition =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "sequence"; sequenceNumber: number }
  | { kind: "time"; enqueuedOn: Date };

function toEventPosition(position: PeekPosition): EventPosition {
  switch (position.kind) {
    case "earliest":
      return earliestEventPosition;
    case "latest":
      return latestEventPosition;
    case "sequence":
      return { sequenceNumber: position.sequenceNumber, isInclusive: true };
    case "time":
      return { enqueuedOn: position.enqueuedOn };
  }
}
