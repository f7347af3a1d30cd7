// Kafka record batches (magic v2, the format of Kafka 0.11+): decoding what producers send, with its
// CRC-32C and gzip, and encoding what fetches return. Event Hubs accepts gzip only among the codecs;
// a batch in another codec is refused with the error its brokers give (see produce.ts).
import { gunzipSync } from "node:zlib";
import { buf as crc32c } from "crc-32/crc32c";
import { KafkaDecodeError, Reader, Writer } from "./codec";

export interface KafkaHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

export interface RecordBatch {
  baseOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Records in the batch (lastOffsetDelta + 1 as declared). */
  count: number;
  isTransactional: boolean;
  isControl: boolean;
  records: KafkaRecord[];
}

export const COMPRESSION = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const COMPRESSION_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"];
const ATTRIBUTE = { compressionMask: 0x07, logAppendTime: 0x08, transactional: 0x10, control: 0x20 } as const;
const MAGIC_V2 = 2;
/** Bytes from the start of a batch to its first record: the fixed header of magic v2. */
const BATCH_HEADER_BYTES = 61;
/** Where the CRC-covered part starts (after baseOffset, length, leader epoch, magic and the CRC itself). */
const CRC_COVERED_FROM = 21;

/** A batch the emulator refuses; `code` is the Kafka error for its partition. */
export class RecordBatchError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "RecordBatchError";
  }
}

export interface DecodeLimits {
  /** Largest decompressed records section accepted (guards against gzip bombs). */
  maxUncompressedBytes: number;
  /** Error code for a codec other than none or gzip. */
  unsupportedCodecError: number;
  corruptError: number;
  tooLargeError: number;
}

function readRecord(reader: Reader): KafkaRecord {
  const length = reader.varint();
  const body = new Reader(reader.raw(length));
  body.int8(); // attributes: unused in v2
  body.varint(); // timestamp delta: Event Hubs keeps its own time (log append time)
  body.varint(); // offset delta: records are numbered in order
  const keyLength = body.varint();
  const key = keyLength < 0 ? null : Buffer.from(body.raw(keyLength));
  const valueLength = body.varint();
  const value = valueLength < 0 ? null : Buffer.from(body.raw(valueLength));
  const headerCount = body.varint();
  if (headerCount < 0 || headerCount > body.remaining) throw new KafkaDecodeError(`a record claims ${headerCount} headers`);
  const headers: KafkaHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const key = body.raw(body.varint()).toString("utf8");
    const length = body.varint();
    headers.push({ key, value: length < 0 ? null : Buffer.from(body.raw(length)) });
  }
  return { key, value, headers };
}

/** Decodes every batch of a partition's `records` field; throws RecordBatchError or KafkaDecodeError. */
export function decodeRecordBatches(records: Buffer, limits: DecodeLimits): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < BATCH_HEADER_BYTES) throw new RecordBatchError(limits.corruptError, "a record batch is cut short");
    const batchLength = records.readInt32BE(pos + 8);
    const end = pos + 12 + batchLength;
    if (batchLength < BATCH_HEADER_BYTES - 12 || end > records.length) throw new RecordBatchError(limits.corruptError, `a record batch declares ${batchLength} bytes`);
    const magic = records.readInt8(pos + 16);
    if (magic !== MAGIC_V2) throw new RecordBatchError(limits.unsupportedCodecError, `record batch magic ${magic} is not supported; use a Kafka 0.11+ client (magic v2)`);
    const crc = records.readUInt32BE(pos + 17);
    if ((crc32c(records.subarray(pos + CRC_COVERED_FROM, end)) >>> 0) !== crc) throw new RecordBatchError(limits.corruptError, "record batch CRC-32C mismatch");
    batches.push(decodeBatch(records.subarray(pos, end), limits));
    pos = end;
  }
  return batches;
}

function decodeBatch(batch: Buffer, limits: DecodeLimits): RecordBatch {
  const header = new Reader(batch);
  const baseOffset = header.int64();
  header.raw(4 + 4 + 1 + 4); // length, partition leader epoch, magic, crc
  const attributes = header.int16();
  const lastOffsetDelta = header.int32();
  header.raw(8 + 8); // first and max timestamp
  const producerId = header.int64();
  const producerEpoch = header.int16();
  const baseSequence = header.int32();
  const count = header.int32();
  const codec = attributes & ATTRIBUTE.compressionMask;
  let body = batch.subarray(BATCH_HEADER_BYTES);
  if (codec === COMPRESSION.gzip) {
    try {
      body = gunzipSync(body, { maxOutputLength: limits.maxUncompressedBytes });
    } catch (error) {
      const tooLarge = (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
      throw new RecordBatchError(tooLarge ? limits.tooLargeError : limits.corruptError, tooLarge ? `a gzip batch inflates past ${limits.maxUncompressedBytes} bytes` : "a gzip batch does not inflate");
    }
  } else if (codec !== COMPRESSION.none) {
    throw new RecordBatchError(limits.unsupportedCodecError, `compression ${COMPRESSION_NAMES[codec] ?? codec} is not supported; Event Hubs accepts none or gzip`);
  }
  if (count < 0 || count !== lastOffsetDelta + 1 || count > body.length) throw new RecordBatchError(limits.corruptError, `a record batch declares ${count} records`);
  const reader = new Reader(body);
  const records = Array.from({ length: count }, () => readRecord(reader));
  if (reader.remaining !== 0) throw new RecordBatchError(limits.corruptError, "a record batch has bytes after its records");
  return {
    baseOffset,
    producerId,
    producerEpoch,
    baseSequence,
    count,
    isTransactional: (attributes & ATTRIBUTE.transactional) !== 0,
    isControl: (attributes & ATTRIBUTE.control) !== 0,
    records,
  };
}

function writeRecord(out: Writer, record: KafkaRecord, offsetDelta: number): void {
  const body = new Writer();
  body.int8(0).varint(0).varint(offsetDelta);
  if (record.key === null) body.varint(-1);
  else body.varint(record.key.length).raw(record.key);
  if (record.value === null) body.varint(-1);
  else body.varint(record.value.length).raw(record.value);
  body.varint(record.headers.length);
  for (const header of record.headers) {
    const key = Buffer.from(header.key, "utf8");
    body.varint(key.length).raw(key);
    if (header.value === null) body.varint(-1);
    else body.varint(header.value.length).raw(header.value);
  }
  out.varint(body.length);
  for (const piece of body.pieces()) out.raw(piece);
}

/**
 * One uncompressed batch of consecutive records starting at `baseOffset`, all stamped with the same
 * log-append time (Event Hubs' enqueued time; the producer's create time is not kept, as on Event Hubs).
 */
export function encodeRecordBatch(baseOffset: number, appendTimeMs: number, records: readonly KafkaRecord[]): Buffer {
  const body = new Writer();
  records.forEach((record, index) => writeRecord(body, record, index));
  const batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body.length);
  batch.writeBigInt64BE(BigInt(baseOffset), 0);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt32BE(0, 12); // partition leader epoch
  batch.writeInt8(MAGIC_V2, 16);
  batch.writeInt16BE(ATTRIBUTE.logAppendTime, 21);
  batch.writeInt32BE(records.length - 1, 23);
  batch.writeBigInt64BE(BigInt(appendTimeMs), 27); // first timestamp
  batch.writeBigInt64BE(BigInt(appendTimeMs), 35); // max timestamp: what clients read under log append time
  batch.writeBigInt64BE(-1n, 43); // producer id
  batch.writeInt16BE(-1, 51); // producer epoch
  batch.writeInt32BE(-1, 53); // base sequence
  batch.writeInt32BE(records.length, 57);
  body.toBuffer().copy(batch, BATCH_HEADER_BYTES);
  batch.writeUInt32BE(crc32c(batch.subarray(CRC_COVERED_FROM)) >>> 0, 17);
  return batch;
}
