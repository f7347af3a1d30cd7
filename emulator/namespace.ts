// The namespace: event hubs from the configuration, each with its partition logs and consumer groups
// (names case-insensitive, $Default always present), plus retention across all of them: a time limit
// and a memory ceiling on stored event bytes, the oldest events going first.
import type { EmulatorConfig, HubConfig } from "./config";
import { DEFAULT_CONSUMER_GROUP } from "./config";
import { partitionIndexForKey } from "./partition-key";
import { PartitionLog } from "./partition-log";

export interface Hub {
  readonly name: string;
  readonly createdAt: Date;
  readonly partitionIds: string[];
  hasConsumerGroup(name: string): boolean;
  partition(id: string): PartitionLog | undefined;
  nextRoundRobinPartition(): string;
  /** The partition Azure assigns to a partition key (lookup3, spec §4.6). */
  partitionForKey(key: string): string;
}

export interface NamespaceOptions {
  /** Milliseconds since the epoch; injectable for retention tests. */
  clock?: () => number;
}

class EventHub implements Hub {
  readonly partitionIds: string[];
  private readonly consumerGroups: Set<string>;
  private readonly partitions = new Map<string, PartitionLog>();
  private roundRobin = 0;

  constructor(
    readonly name: string,
    readonly createdAt: Date,
    config: HubConfig,
    createLog: (partitionId: string) => PartitionLog,
  ) {
    this.partitionIds = Array.from({ length: config.partitionCount }, (_, i) => String(i));
    this.consumerGroups = new Set([DEFAULT_CONSUMER_GROUP, ...config.consumerGroups].map((g) => g.toLowerCase()));
    for (const id of this.partitionIds) this.partitions.set(id, createLog(id));
  }

  hasConsumerGroup(name: string): boolean {
    return this.consumerGroups.has(name.toLowerCase());
  }

  partition(id: string): PartitionLog | undefined {
    return this.partitions.get(id);
  }

  nextRoundRobinPartition(): string {
    const id = this.partitionIds[this.roundRobin % this.partitionIds.length]!;
    this.roundRobin = (this.roundRobin + 1) % this.partitionIds.length;
    return id;
  }

  partitionForKey(key: string): string {
    return this.partitionIds[partitionIndexForKey(key, this.partitionIds.length)]!;
  }

  logs(): Iterable<PartitionLog> {
    return this.partitions.values();
  }
}

const HOUR_MS = 3_600_000;

export class EventHubsNamespace {
  readonly name: string;
  private readonly hubs = new Map<string, EventHub>();
  private readonly clock: () => number;
  private readonly retentionMs: number;
  private readonly maxBytes: number;
  private storedBytes = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(config: EmulatorConfig, options: NamespaceOptions) {
    this.name = config.namespace;
    this.clock = options.clock ?? Date.now;
    this.retentionMs = config.retentionHours * HOUR_MS;
    this.maxBytes = config.maxMemoryBytes;
  }

  static async open(config: EmulatorConfig, options: NamespaceOptions = {}): Promise<EventHubsNamespace> {
    const namespace = new EventHubsNamespace(config, options);
    const createdAt = new Date(namespace.clock());
    for (const hubConfig of config.hubs) {
      const hub = new EventHub(hubConfig.name, createdAt, hubConfig, (id) => namespace.createLog(id));
      namespace.hubs.set(hubConfig.name.toLowerCase(), hub);
    }
    namespace.startSweeping();
    return namespace;
  }

  private createLog(partitionId: string): PartitionLog {
    return new PartitionLog(partitionId, {
      clock: this.clock,
      onAppended: (log, appendedBytes) => this.afterAppend(log, appendedBytes),
    });
  }

  hub(name: string): Hub | undefined {
    return this.hubs.get(name.toLowerCase());
  }

  get hubNames(): string[] {
    return [...this.hubs.values()].map((hub) => hub.name);
  }

  /** Event bytes currently retained across every partition of every hub. */
  get retainedBytes(): number {
    return this.storedBytes;
  }

  /** Evicts every event older than the retention period; runs on a timer and is public for tests. */
  sweep(): void {
    const cutoff = this.clock() - this.retentionMs;
    for (const log of this.allLogs()) this.storedBytes -= log.evictOlderThan(cutoff);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
  }

  private startSweeping(): void {
    // Often enough that nothing outlives retention by more than a tenth of it, at most once a second.
    const interval = Math.min(Math.max(this.retentionMs / 10, 1000), 60_000);
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
  }

  private *allLogs(): Iterable<PartitionLog> {
    for (const hub of this.hubs.values()) yield* hub.logs();
  }

  private afterAppend(log: PartitionLog, appendedBytes: number): void {
    this.storedBytes += appendedBytes;
    this.storedBytes -= log.evictOlderThan(this.clock() - this.retentionMs);
    if (this.storedBytes > this.maxBytes) this.enforceMemoryCeiling();
  }

  /**
   * Evicts the oldest events namespace-wide until the stored bytes fit under the ceiling: repeatedly takes
   * the partition whose oldest event is the oldest, and evicts from it up to the next partition's oldest.
   */
  private enforceMemoryCeiling(): void {
    while (this.storedBytes > this.maxBytes) {
      let oldest: PartitionLog | undefined;
      let runnerUpTime = Number.POSITIVE_INFINITY;
      for (const log of this.allLogs()) {
        const time = log.oldestRetained?.enqueuedTimeMs;
        if (time === undefined) continue;
        const oldestTime = oldest?.oldestRetained?.enqueuedTimeMs;
        if (oldestTime === undefined || time < oldestTime) {
          if (oldestTime !== undefined) runnerUpTime = oldestTime;
          oldest = log;
        } else if (time < runnerUpTime) {
          runnerUpTime = time;
        }
      }
      if (!oldest) return;
      let excess = this.storedBytes - this.maxBytes;
      let first = true;
      this.storedBytes -= oldest.evictOldestWhile((event) => {
        if (excess <= 0 || (!first && event.enqueuedTimeMs > runnerUpTime)) return false;
        first = false;
        excess -= event.bytes.length;
        return true;
      });
    }
  }
}
