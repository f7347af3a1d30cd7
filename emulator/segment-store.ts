// Durable storage for one partition: append-only segment files of length-prefixed, checksummed records.
//
// Layout in the partition directory:
//   <first sequence number, 20 digits>.seg   segments, rolled over at `segmentBytes`
//   retained-from                            decimal sequence number; older events were evicted by retention
// Segment file: the 8-byte magic "EHSEG01\n", then records:
//   u32 LE body length | u32 LE CRC-32 of the body | body
//   body: u48 sequence number | u48 offset | i48 enqueued time (ms) | u16 (partition key bytes + 1, 0 = none)
//         | partition key UTF-8 | the event's bytes
//
// Write policy: every append is one write(2) of the whole batch before the log changes in memory, so a
// killed emulator loses nothing it acknowledged (the data is in the OS page cache). fdatasync runs on a
// short timer when something changed, and on close, which bounds what an OS crash or power loss can take.
// A torn tail (a crash mid-write: damage with no whole record after it) is cut back to the last whole
// record on open, and logged. Damage followed by intact records is not a torn write but a damaged file:
// opening refuses with an error rather than cut acknowledged events and reuse their sequence numbers.
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import type { Logger } from "pino";
import type { EventSink, StoredEvent } from "./partition-log";

const MAGIC = Buffer.from("EHSEG01\n", "latin1");
const RECORD_HEADER = 8;
const FIXED_BODY = 6 + 6 + 6 + 2;
const SEGMENT_SUFFIX = ".seg";
const RETAINED_FROM_FILE = "retained-from";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirError";
  }
}

export function encodeRecord(event: StoredEvent): Buffer {
  const key = event.partitionKey === undefined ? undefined : Buffer.from(event.partitionKey, "utf8");
  const bodyLength = FIXED_BODY + (key?.length ?? 0) + event.bytes.length;
  const record = Buffer.allocUnsafe(RECORD_HEADER + bodyLength);
  let at = RECORD_HEADER;
  at = record.writeUIntLE(event.sequenceNumber, at, 6);
  at = record.writeUIntLE(event.offset, at, 6);
  at = record.writeIntLE(event.enqueuedTimeMs, at, 6);
  at = record.writeUInt16LE(key ? key.length + 1 : 0, at);
  if (key) at += key.copy(record, at);
  event.bytes.copy(record, at);
  record.writeUInt32LE(bodyLength, 0);
  record.writeUInt32LE(crc32(record.subarray(RECORD_HEADER)), 4);
  return record;
}

interface ParsedSegment {
  events: StoredEvent[];
  /** Bytes of whole, valid records (including the magic); anything after is damaged. */
  validLength: number;
  problem?: string;
}

/**
 * The first whole, checksummed record that starts after `from` and carries a sequence number above
 * `lastSequenceNumber`, if any: proof that the damage at `from` is not a torn tail. Candidates are
 * filtered by length and sequence number before their checksum is computed, so a scan stays linear.
 */
function intactRecordAfter(file: Buffer, from: number, lastSequenceNumber: number): { at: number; sequenceNumber: number } | undefined {
  const maxRecords = Math.floor((file.length - from) / (RECORD_HEADER + FIXED_BODY));
  for (let at = from + 1; at + RECORD_HEADER + FIXED_BODY <= file.length; at++) {
    const bodyLength = file.readUInt32LE(at);
    if (bodyLength < FIXED_BODY || at + RECORD_HEADER + bodyLength > file.length) continue;
    const sequenceNumber = file.readUIntLE(at + RECORD_HEADER, 6);
    if (sequenceNumber <= lastSequenceNumber || sequenceNumber > lastSequenceNumber + maxRecords + 1) continue;
    if (crc32(file.subarray(at + RECORD_HEADER, at + RECORD_HEADER + bodyLength)) === file.readUInt32LE(at + 4)) return { at, sequenceNumber };
  }
  return undefined;
}

function parseSegment(file: Buffer): ParsedSegment {
  if (file.length < MAGIC.length || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { events: [], validLength: 0, problem: "missing or wrong segment header" };
  }
  const events: StoredEvent[] = [];
  let at = MAGIC.length;
  while (at < file.length) {
    if (file.length - at < RECORD_HEADER) return { events, validLength: at, problem: `incomplete record header at byte ${at}` };
    const bodyLength = file.readUInt32LE(at);
    const body = file.subarray(at + RECORD_HEADER, at + RECORD_HEADER + bodyLength);
    if (bodyLength < FIXED_BODY || body.length < bodyLength) return { events, validLength: at, problem: `incomplete record at byte ${at}` };
    if (crc32(body) !== file.readUInt32LE(at + 4)) return { events, validLength: at, problem: `checksum mismatch at byte ${at}` };
    const keyField = body.readUInt16LE(18);
    const keyEnd = FIXED_BODY + Math.max(keyField - 1, 0);
    if (keyEnd > body.length) return { events, validLength: at, problem: `bad partition key length at byte ${at}` };
    const event: StoredEvent = {
      sequenceNumber: body.readUIntLE(0, 6),
      offset: body.readUIntLE(6, 6),
      enqueuedTimeMs: body.readIntLE(12, 6),
      bytes: Buffer.from(body.subarray(keyEnd)), // a copy, so the file buffer can be freed
    };
    if (keyField > 0) event.partitionKey = body.toString("utf8", FIXED_BODY, keyEnd);
    events.push(event);
    at += RECORD_HEADER + bodyLength;
  }
  return { events, validLength: at };
}

const segmentName = (firstSequenceNumber: number) => `${String(firstSequenceNumber).padStart(20, "0")}${SEGMENT_SUFFIX}`;

export interface OpenedPartitionStore {
  store: SegmentStore;
  /** Events at or after the retained-from mark, in order. */
  retained: StoredEvent[];
  /** The last event ever written, also when retention evicted it (numbering continues after it). */
  last?: StoredEvent;
}

export interface SegmentStoreOptions {
  logger: Logger;
  segmentBytes?: number;
}

export class SegmentStore implements EventSink {
  private fd: number;
  private segmentSize: number;
  /** First sequence numbers of all segments on disk, ascending; the last one is being appended to. */
  private readonly segments: number[];
  private retainedFrom: number;
  private dirty = false;
  private retainedFromDirty = false;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    segments: number[],
    retainedFrom: number,
  ) {
    this.segments = segments;
    this.retainedFrom = retainedFrom;
    const active = segments.at(-1);
    if (active === undefined) throw new Error("a segment store needs an active segment");
    this.fd = openSync(path.join(dir, segmentName(active)), "a");
    this.segmentSize = fstatSync(this.fd).size;
  }

  /** Opens (creating if needed) the partition directory and loads what it holds. */
  static open(dir: string, options: SegmentStoreOptions): OpenedPartitionStore {
    mkdirSync(dir, { recursive: true });
    const retainedFromPath = path.join(dir, RETAINED_FROM_FILE);
    const retainedFrom = existsSync(retainedFromPath) ? Number(readFileSync(retainedFromPath, "utf8").trim()) || 0 : 0;
    const segments = readdirSync(dir)
      .filter((name) => /^\d{20}\.seg$/.test(name))
      .sort()
      .map((name) => Number(name.slice(0, 20)));
    const retained: StoredEvent[] = [];
    let last: StoredEvent | undefined;
    segments.forEach((first, index) => {
      const file = path.join(dir, segmentName(first));
      const bytes = readFileSync(file);
      const parsed = parseSegment(bytes);
      const isActive = index === segments.length - 1;
      if (parsed.problem) {
        if (!isActive) throw new DataDirError(`Segment ${file} is damaged (${parsed.problem}) and is not the last one; refusing to start with a gap in the event log.`);
        const lastGood = parsed.events.at(-1)?.sequenceNumber ?? first - 1;
        const intact = intactRecordAfter(bytes, parsed.validLength, lastGood);
        if (intact) {
          throw new DataDirError(
            `Segment ${file} is damaged (${parsed.problem}) but holds intact events after the damage (sequence number ${intact.sequenceNumber} at byte ${intact.at}); ` +
              "refusing to start rather than drop acknowledged events. Restore the file from a backup, or move the partition directory aside to start it empty.",
          );
        }
        options.logger.warn({ file, problem: parsed.problem, keptBytes: parsed.validLength }, "cutting a torn tail of the event log (a crash mid-write; no whole record follows it)");
        repairTail(file, parsed.validLength);
      }
      for (const event of parsed.events) {
        const expected = last ? last.sequenceNumber + 1 : first;
        if (event.sequenceNumber !== expected) {
          throw new DataDirError(`Segment ${file} holds sequence number ${event.sequenceNumber} where ${expected} was expected.`);
        }
        last = event;
        if (event.sequenceNumber >= retainedFrom) retained.push(event);
      }
    });
    if (segments.length === 0) {
      const first = 0;
      writeFileSync(path.join(dir, segmentName(first)), MAGIC);
      segments.push(first);
    }
    const store = new SegmentStore(dir, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, segments, retainedFrom);
    store.deleteEvictedSegments();
    return last ? { store, retained, last } : { store, retained };
  }

  append(events: readonly StoredEvent[]): void {
    const first = events[0];
    if (!first || this.closed) return;
    if (this.segmentSize >= this.segmentBytes) this.rollOver(first.sequenceNumber);
    const batch = Buffer.concat(events.map(encodeRecord));
    let written = 0;
    while (written < batch.length) written += writeSync(this.fd, batch, written, batch.length - written);
    this.segmentSize += batch.length;
    this.dirty = true;
  }

  retainFrom(sequenceNumber: number): void {
    if (sequenceNumber <= this.retainedFrom) return;
    this.retainedFrom = sequenceNumber;
    this.retainedFromDirty = true;
    this.deleteEvictedSegments();
  }

  /** Makes appended records and the retention mark durable. */
  flush(): void {
    if (this.closed) return;
    if (this.dirty) {
      fdatasyncSync(this.fd);
      this.dirty = false;
    }
    if (this.retainedFromDirty) {
      const target = path.join(this.dir, RETAINED_FROM_FILE);
      writeFileSync(`${target}.tmp`, `${this.retainedFrom}\n`);
      renameSync(`${target}.tmp`, target);
      this.retainedFromDirty = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private rollOver(firstSequenceNumber: number): void {
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = openSync(path.join(this.dir, segmentName(firstSequenceNumber)), "a");
    writeSync(this.fd, MAGIC);
    this.segmentSize = MAGIC.length;
    this.segments.push(firstSequenceNumber);
    this.dirty = true;
  }

  /** Deletes sealed segments whose every event is below the retained-from mark; the active one stays. */
  private deleteEvictedSegments(): void {
    while (this.segments.length > 1 && this.segments[1]! <= this.retainedFrom) {
      unlinkSync(path.join(this.dir, segmentName(this.segments.shift()!)));
    }
  }
}

/** Cuts a damaged segment back to its last whole record (or rewrites the header if even that is gone). */
function repairTail(file: string, validLength: number): void {
  const fd = openSync(file, "r+");
  try {
    if (validLength < MAGIC.length) {
      ftruncateSync(fd, 0);
      writeSync(fd, MAGIC, 0, MAGIC.length, 0);
    } else {
      ftruncateSync(fd, validLength);
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
