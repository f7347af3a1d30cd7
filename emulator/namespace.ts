// The namespace: event hubs from the configuration, each with its partition logs and consumer groups
// (names case-insensitive, $Default always present), plus retention across all of them: a time limit
// and a memory ceiling on stored event bytes, the oldest events going first. With a data directory every
// partition is backed by a SegmentStore and reloaded on open, so numbering, offsets and times survive.
// Backwards-compatible addition to the contract: `open(config, options?)` takes an optional clock/logger.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino, { type Logger } from "pino";
import type { EmulatorConfig, HubConfig } from "./config";
import { DEFAULT_CONSUMER_GROUP } from "../common/names";
import { DataDirLock } from "./data-dir-lock";
import { partitionIndexForKey } from "./partition-key";
import { PartitionLog } from "./partition-log";
import { SegmentStore } from "./segment-store";

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
  logger?: Logger;
  /** How often appended events are fsync'ed to the data directory; default 200 ms. */
  flushIntervalMs?: number;
  /** Size at which a partition's segment file is sealed and a new one started; default 64 MiB. */
  segmentBytes?: number;
}

/** Where a hub keeps its files: `<dataDir>/eventhubs/<hub name lower-cased>/`. */
export function hubDirectory(dataDir: string, hubName: string): string {
  return path.join(dataDir, "eventhubs", hubName.toLowerCase());
}

/** The hub's creation time survives restarts (management READ reports it as created_at). */
function loadOrRecordCreatedAt(hubDir: string, now: number): Date {
  const file = path.join(hubDir, "hub.json");
  try {
    const recorded = new Date((JSON.parse(readFileSync(file, "utf8")) as { createdAt?: string }).createdAt ?? "");
    if (!Number.isNaN(recorded.getTime())) return recorded;
  } catch {
    // Missing or unreadable: this is the hub's first start on this data directory.
  }
  mkdirSync(hubDir, { recursive: true });
  const createdAt = new Date(now);
  writeFileSync(file, `${JSON.stringify({ createdAt: createdAt.toISOString() })}\n`);
  return createdAt;
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
  private readonly logger: Logger;
  private readonly stores: SegmentStore[] = [];
  private lock: DataDirLock | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(config: EmulatorConfig, options: NamespaceOptions) {
    this.name = config.namespace;
    this.clock = options.clock ?? Date.now;
    this.retentionMs = config.retentionHours * HOUR_MS;
    this.maxBytes = config.maxMemoryBytes;
    this.logger = options.logger ?? pino({ name: "eventhubs-namespace", level: "warn" }, pino.destination(2));
  }

  /** Builds the hubs; with `config.dataDir` loads each partition from disk (and locks the directory). */
  static async open(config: EmulatorConfig, options: NamespaceOptions = {}): Promise<EventHubsNamespace> {
    const namespace = new EventHubsNamespace(config, options);
    const dataDir = config.dataDir;
    try {
      if (dataDir) namespace.lock = DataDirLock.acquire(path.join(dataDir, "eventhubs"));
      for (const hubConfig of config.hubs) {
        const hubDir = dataDir ? hubDirectory(dataDir, hubConfig.name) : undefined;
        const createdAt = hubDir ? loadOrRecordCreatedAt(hubDir, namespace.clock()) : new Date(namespace.clock());
        const hub = new EventHub(hubConfig.name, createdAt, hubConfig, (id) =>
          namespace.createLog(id, hubDir && path.join(hubDir, id), options.segmentBytes),
        );
        namespace.hubs.set(hubConfig.name.toLowerCase(), hub);
      }
    } catch (error) {
      await namespace.close();
      throw error;
    }
    // Reloaded events are subject to the same retention as live ones.
    namespace.sweep();
    if (namespace.storedBytes > namespace.maxBytes) namespace.enforceMemoryCeiling();
    namespace.startTimers(options.flushIntervalMs ?? 200);
    return namespace;
  }

  private createLog(partitionId: string, partitionDir: string | undefined, segmentBytes: number | undefined): PartitionLog {
    const onAppended = (log: PartitionLog, appendedBytes: number) => this.afterAppend(log, appendedBytes);
    if (!partitionDir) return new PartitionLog(partitionId, { clock: this.clock, onAppended });
    const opened = SegmentStore.open(partitionDir, segmentBytes === undefined ? { logger: this.logger } : { logger: this.logger, segmentBytes });
    this.stores.push(opened.store);
    const log = new PartitionLog(partitionId, {
      clock: this.clock,
      onAppended,
      sink: opened.store,
      restored: opened.last ? { retained: opened.retained, last: opened.last } : { retained: opened.retained },
    });
    this.storedBytes += log.retainedBytes;
    return log;
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

  /** Makes everything appended so far durable (no-op in memory). */
  flush(): void {
    for (const store of this.stores) store.flush();
  }

  /** Stops the timers, flushes and closes the data files and releases the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.flushTimer);
    for (const store of this.stores) store.close();
    this.lock?.release();
  }

  private startTimers(flushIntervalMs: number): void {
    // Often enough that nothing outlives retention by more than a tenth of it, at most once a second.
    const interval = Math.min(Math.max(this.retentionMs / 10, 1000), 60_000);
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
    if (this.stores.length === 0) return;
    this.flushTimer = setInterval(() => {
      try {
        this.flush();
      } catch (error) {
        this.logger.error({ err: error }, "failed to flush the event log to disk");
      }
    }, flushIntervalMs);
    this.flushTimer.unref();
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
