// One partition's event log: sequence numbers from 0 without gaps, offsets as byte positions (the sum
// of the sizes of all earlier events, so offset != sequence number as on Azure), enqueued times that
// never go backwards, and eviction from the front (retention). Reads index an array by sequence number.
import type { EventPosition } from "./event-position";
import { EARLIEST_OFFSET, LATEST_OFFSET } from "./event-position";

export interface StoredEvent {
  sequenceNumber: number;
  /** Byte position of this event in the partition; sent to clients as a decimal string. */
  offset: number;
  enqueuedTimeMs: number;
  partitionKey?: string;
  /** The event's original encoded AMQP message (all sections), unchanged. */
  bytes: Buffer;
}

export interface NewEvent {
  bytes: Buffer;
  partitionKey?: string;
}

/** Durable storage behind a log (see segment-store.ts); called before memory changes. */
export interface EventSink {
  append(events: readonly StoredEvent[]): void;
  /** Events below this sequence number are evicted and need not survive a restart. */
  retainFrom(sequenceNumber: number): void;
}

export interface PartitionLogOptions {
  clock?: () => number;
  sink?: EventSink;
  /** State reloaded from disk: the retained events and the last event ever written (evicted or not). */
  restored?: { retained: StoredEvent[]; last?: StoredEvent };
  /** Called after every append, e.g. for the namespace's memory ceiling. */
  onAppended?: (log: PartitionLog, appendedBytes: number) => void;
}

export type StartResult = { next: number } | { error: string };

// Drop evicted entries from the array once they are this many and over half of it (amortised O(1)).
const COMPACT_AFTER = 1024;

export class PartitionLog {
  readonly partitionId: string;
  private events: StoredEvent[] = [];
  /** Index in `events` of the first retained event. */
  private head = 0;
  /** Sequence number of events[0]. */
  private baseSequenceNumber = 0;
  private nextSequenceNumber = 0;
  private nextOffset = 0;
  private last: StoredEvent | undefined;
  private bytesRetained = 0;
  private readonly listeners = new Set<() => void>();
  private readonly clock: () => number;
  private readonly sink: EventSink | undefined;
  private readonly onAppended: PartitionLogOptions["onAppended"];

  constructor(partitionId: string, options: PartitionLogOptions = {}) {
    this.partitionId = partitionId;
    this.clock = options.clock ?? Date.now;
    this.sink = options.sink;
    this.onAppended = options.onAppended;
    if (options.restored) this.restore(options.restored.retained, options.restored.last);
  }

  private restore(retained: StoredEvent[], last: StoredEvent | undefined): void {
    this.last = last ?? retained.at(-1);
    if (!this.last) return;
    this.nextSequenceNumber = this.last.sequenceNumber + 1;
    this.nextOffset = this.last.offset + this.last.bytes.length;
    this.events = retained;
    this.baseSequenceNumber = retained[0]?.sequenceNumber ?? this.nextSequenceNumber;
    for (const event of retained) this.bytesRetained += event.bytes.length;
  }

  /** Appends the whole batch or nothing; all events get one enqueued time. */
  append(batch: readonly NewEvent[], nowMs?: number): StoredEvent[] {
    if (batch.length === 0) return [];
    for (const event of batch) {
      if (event.bytes.length === 0) throw new Error("Cannot store an event with no bytes: offsets must advance.");
    }
    const enqueuedTimeMs = Math.max(nowMs ?? this.clock(), this.last?.enqueuedTimeMs ?? Number.MIN_SAFE_INTEGER);
    let sequenceNumber = this.nextSequenceNumber;
    let offset = this.nextOffset;
    const stored = batch.map((event): StoredEvent => {
      const entry: StoredEvent = { sequenceNumber: sequenceNumber++, offset, enqueuedTimeMs, bytes: event.bytes };
      if (event.partitionKey !== undefined) entry.partitionKey = event.partitionKey;
      offset += event.bytes.length;
      return entry;
    });
    this.sink?.append(stored);
    if (this.retainedCount === 0) {
      // Nothing retained: restart the array at the new events so indexes stay small.
      this.events = [];
      this.head = 0;
      this.baseSequenceNumber = this.nextSequenceNumber;
    }
    for (const entry of stored) this.events.push(entry);
    const appendedBytes = offset - this.nextOffset;
    this.bytesRetained += appendedBytes;
    this.nextSequenceNumber = sequenceNumber;
    this.nextOffset = offset;
    this.last = stored[stored.length - 1];
    this.onAppended?.(this, appendedBytes);
    for (const listener of this.listeners) listener();
    return stored;
  }

  /** First retained sequence number; -1 when never written; the next sequence number when all were evicted. */
  get beginSequenceNumber(): number {
    if (!this.last) return -1;
    return this.oldestRetained?.sequenceNumber ?? this.nextSequenceNumber;
  }

  /** The last event ever enqueued, even if retention has evicted it since. */
  get lastEnqueued(): StoredEvent | undefined {
    return this.last;
  }

  get isEmpty(): boolean {
    return this.retainedCount === 0;
  }

  get retainedCount(): number {
    return this.events.length - this.head;
  }

  /** Sum of the retained events' sizes in bytes. */
  get retainedBytes(): number {
    return this.bytesRetained;
  }

  get oldestRetained(): StoredEvent | undefined {
    return this.events[this.head];
  }

  /** Sequence number the next appended event will get. */
  get endSequenceNumber(): number {
    return this.nextSequenceNumber;
  }

  startFor(position: EventPosition): StartResult {
    switch (position.kind) {
      case "offset":
        return this.startForOffset(position.offset, position.inclusive);
      case "sequenceNumber":
        return this.startForSequenceNumber(position.sequenceNumber, position.inclusive);
      case "enqueuedTime":
        return { next: this.firstIndexAfterTime(position.timeMs, position.inclusive) };
    }
  }

  private startForSequenceNumber(sequenceNumber: number, inclusive: boolean): StartResult {
    const next = inclusive ? sequenceNumber : sequenceNumber + 1;
    if (next > this.nextSequenceNumber) {
      return {
        error: `The supplied sequence number '${sequenceNumber}' is invalid. The last sequence number in the system is '${this.last?.sequenceNumber ?? -1}'.`,
      };
    }
    return { next: Math.max(next, this.beginSequenceNumber) };
  }

  private startForOffset(offsetText: string, inclusive: boolean): StartResult {
    if (offsetText === EARLIEST_OFFSET) return { next: Math.max(this.beginSequenceNumber, 0) };
    if (offsetText === LATEST_OFFSET) return { next: this.nextSequenceNumber };
    const offset = Number(offsetText);
    const pastEnd = inclusive ? offset > this.nextOffset : offset >= this.nextOffset;
    if (!Number.isSafeInteger(offset) || offset < 0 || pastEnd) {
      return {
        error: `The supplied offset '${offsetText}' is invalid. The last offset in the system is '${this.last?.offset ?? -1}'.`,
      };
    }
    if (offset === this.nextOffset) return { next: this.nextSequenceNumber };
    const oldest = this.oldestRetained;
    // Older than retention: start at the oldest event still kept, as the service does.
    if (!oldest || offset < oldest.offset) return { next: this.beginSequenceNumber };
    const index = this.indexOfOffset(offset);
    if (index === undefined) {
      return {
        error: `The supplied offset '${offsetText}' is invalid: it is not the offset of an event in partition '${this.partitionId}'. Use an offset received with an event.`,
      };
    }
    const sequenceNumber = this.baseSequenceNumber + index;
    return { next: inclusive ? sequenceNumber : sequenceNumber + 1 };
  }

  /** Binary search among retained events (offsets increase with sequence numbers). */
  private indexOfOffset(offset: number): number | undefined {
    let low = this.head;
    let high = this.events.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = this.events[middle]!.offset;
      if (candidate === offset) return middle;
      if (candidate < offset) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** Sequence number of the first retained event enqueued after (or at, if inclusive) the time. */
  private firstIndexAfterTime(timeMs: number, inclusive: boolean): number {
    let low = this.head;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const time = this.events[middle]!.enqueuedTimeMs;
      if (inclusive ? time >= timeMs : time > timeMs) high = middle;
      else low = middle + 1;
    }
    return this.baseSequenceNumber + low;
  }

  /** Up to `max` retained events with sequence number >= fromSequenceNumber (evicted ones are skipped). */
  read(fromSequenceNumber: number, max: number): StoredEvent[] {
    const start = Math.max(fromSequenceNumber - this.baseSequenceNumber, this.head);
    if (start >= this.events.length || max <= 0) return [];
    return this.events.slice(start, Math.min(start + max, this.events.length));
  }

  /** Calls the listener after each append; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Evicts events enqueued before the cutoff; returns the bytes freed. */
  evictOlderThan(cutoffMs: number): number {
    let freed = 0;
    let count = 0;
    for (let event = this.oldestRetained; event && event.enqueuedTimeMs < cutoffMs; event = this.oldestRetained) {
      freed += this.dropOldest(event);
      count++;
    }
    if (count > 0) this.afterEviction();
    return freed;
  }

  /** Evicts the oldest retained events while `shouldEvict` holds for them; returns the bytes freed. */
  evictOldestWhile(shouldEvict: (event: StoredEvent) => boolean): number {
    let freed = 0;
    let count = 0;
    for (let event = this.oldestRetained; event && shouldEvict(event); event = this.oldestRetained) {
      freed += this.dropOldest(event);
      count++;
    }
    if (count > 0) this.afterEviction();
    return freed;
  }

  private dropOldest(event: StoredEvent): number {
    this.events[this.head] = undefined as unknown as StoredEvent; // release the bytes before compaction
    this.head++;
    this.bytesRetained -= event.bytes.length;
    return event.bytes.length;
  }

  private afterEviction(): void {
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.baseSequenceNumber += this.head;
      this.head = 0;
    }
    this.sink?.retainFrom(this.beginSequenceNumber);
  }
}
