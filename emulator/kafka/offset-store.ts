// Committed offsets of Kafka consumer groups, keyed by (group, topic, partition) as Event Hubs keeps them.
// With a data directory they are written to <dataDir>/kafka/committed-offsets.json (a whole new file
// renamed over the old one, so a crash leaves the previous or the next state, never a torn one) shortly
// after each commit and on close, and read back on start: they survive an emulator restart.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import type { BrokerLogger } from "../broker-context";
import { DataDirError } from "../segment-store";

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
}

type Partitions = Map<number, CommittedOffset>;
type Topics = Map<string, Partitions>;

const FILE_NAME = "committed-offsets.json";
const FORMAT_VERSION = 1;
/** How long a commit may wait before it is written; commits in between share the write. */
const WRITE_DELAY_MS = 100;

interface FileShape {
  version: number;
  groups: Record<string, Record<string, Record<string, CommittedOffset>>>;
}

export class OffsetStore {
  private readonly groups = new Map<string, Topics>();
  private writeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly log: BrokerLogger | undefined,
  ) {}

  /** Loads what a previous run committed (with a data directory); in memory otherwise. */
  static open(dataDir: string | undefined, log?: BrokerLogger): OffsetStore {
    if (dataDir === undefined) return new OffsetStore(undefined, log);
    const dir = path.join(dataDir, "kafka");
    mkdirSync(dir, { recursive: true });
    const store = new OffsetStore(path.join(dir, FILE_NAME), log);
    store.load();
    return store;
  }

  private load(): void {
    if (!this.file || !existsSync(this.file)) return;
    let parsed: FileShape;
    try {
      parsed = JSON.parse(readFileSync(this.file, "utf8")) as FileShape;
      if (parsed.version !== FORMAT_VERSION || typeof parsed.groups !== "object") throw new Error(`unknown format version ${String(parsed.version)}`);
    } catch (error) {
      throw new DataDirError(`The Kafka committed offsets in ${this.file} cannot be read (${(error as Error).message}); move the file aside to start without them.`);
    }
    for (const [group, topics] of Object.entries(parsed.groups)) {
      for (const [topic, partitions] of Object.entries(topics)) {
        for (const [partition, committed] of Object.entries(partitions)) this.set(group, topic, Number(partition), committed);
      }
    }
  }

  commit(group: string, topic: string, partition: number, committed: CommittedOffset): void {
    this.set(group, topic, partition, committed);
    this.scheduleWrite();
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(topic)?.get(partition);
  }

  /** Every topic and partition the group has committed for. */
  committed(group: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.groups.get(group) ?? new Map();
  }

  /** Groups with committed offsets (ListGroups reports them even without members). */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Writes pending commits now and stops writing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
      this.write();
    }
  }

  private set(group: string, topic: string, partition: number, committed: CommittedOffset): void {
    let topics = this.groups.get(group);
    if (!topics) this.groups.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, committed);
  }

  private scheduleWrite(): void {
    if (!this.file || this.closed || this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      try {
        this.write();
      } catch (error) {
        // Kept in memory and written with the next commit; the emulator goes on serving.
        this.log?.error({ err: error, file: this.file }, "failed to write the Kafka committed offsets");
      }
    }, WRITE_DELAY_MS);
  }

  private write(): void {
    if (!this.file) return;
    const shape: FileShape = { version: FORMAT_VERSION, groups: {} };
    for (const [group, topics] of this.groups) {
      shape.groups[group] = Object.fromEntries([...topics].map(([topic, partitions]) => [topic, Object.fromEntries(partitions)]));
    }
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, "w");
    try {
      writeSync(fd, `${JSON.stringify(shape)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }
}
