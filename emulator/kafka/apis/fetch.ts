// Fetch (v4-v12) and ListOffsets (v0-v7). A Kafka offset is the event's sequence number in its hub
// partition (as on Event Hubs, whose byte offsets stay an AMQP notion), so the high watermark is the next
// sequence number and the log start offset the oldest one retention kept. A fetch long-polls up to
// max_wait_ms for min_bytes; what it returns is bounded by the client's max bytes (per partition and in
// all) and by the server's cap, except that the first batch is returned whole so a client always
// progresses (KIP-74). Without transactions, read_committed and read_uncommitted read the same.
import type { Reader, Writer } from "../codec";
import { responseWriter, type KafkaRequest, type KafkaServerContext } from "../context";
import { ERROR } from "../errors";
import { kafkaRecordFromAmqp } from "../amqp-mapping";
import type { PartitionLog, StoredEvent } from "../../partition-log";
import { encodeRecordBatch } from "../records";
import { mayUse, type KafkaPrincipal } from "../sasl-plain";

const READ_CHUNK = 256;
const FETCH_SESSION_ID_NOT_FOUND = 70;
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

interface FetchPartition {
  index: number;
  fetchOffset: number;
  maxBytes: number;
}

interface FetchTopic {
  name: string;
  partitions: FetchPartition[];
}

interface PartitionAnswer {
  index: number;
  error: number;
  highWatermark: number;
  logStartOffset: number;
  batches: Buffer[];
}

/** First offset still retained (0 for a partition never written). */
const logStart = (log: PartitionLog): number => Math.max(log.beginSequenceNumber, 0);

type Resolved = { log: PartitionLog; error?: undefined } | { log?: undefined; error: number };

/** The partition log a client may read, or the error for its topic/partition. */
export function resolvePartition(server: KafkaServerContext, principal: KafkaPrincipal, topic: string, index: number): Resolved {
  const hub = server.namespace.hub(topic);
  if (!hub) return { error: ERROR.unknownTopicOrPartition };
  if (!mayUse(principal, topic)) return { error: ERROR.topicAuthorizationFailed };
  const log = hub.partition(String(index));
  return log ? { log } : { error: ERROR.unknownTopicOrPartition };
}

/** Consecutive events with the same enqueued time (one append, or several in one millisecond) go into one batch: log append time is per batch. */
function encodeBatches(events: StoredEvent[], budget: number, mustReturnOne: boolean): { batches: Buffer[]; bytes: number; next: number | undefined } {
  const batches: Buffer[] = [];
  let bytes = 0;
  let start = 0;
  while (start < events.length) {
    let end = start + 1;
    while (end < events.length && events[end]!.enqueuedTimeMs === events[start]!.enqueuedTimeMs) end++;
    const head = events[start]!;
    const batch = encodeRecordBatch(head.sequenceNumber, head.enqueuedTimeMs, events.slice(start, end).map(kafkaRecordFromAmqp));
    if (bytes + batch.length > budget && !(mustReturnOne && batches.length === 0)) return { batches, bytes, next: head.sequenceNumber };
    batches.push(batch);
    bytes += batch.length;
    start = end;
  }
  return { batches, bytes, next: undefined };
}

function readPartition(log: PartitionLog, fetchOffset: number, budget: number, mustReturnOne: boolean): { batches: Buffer[]; bytes: number } {
  const batches: Buffer[] = [];
  let bytes = 0;
  let from = fetchOffset;
  while (bytes < budget || (mustReturnOne && batches.length === 0)) {
    const events = log.read(from, READ_CHUNK);
    if (events.length === 0) break;
    const encoded = encodeBatches(events, budget - bytes, mustReturnOne && batches.length === 0);
    batches.push(...encoded.batches);
    bytes += encoded.bytes;
    if (encoded.next !== undefined) break;
    from = events.at(-1)!.sequenceNumber + 1;
  }
  return { batches, bytes };
}

function collect(server: KafkaServerContext, principal: KafkaPrincipal, topics: FetchTopic[], maxBytes: number): { answers: Array<{ name: string; partitions: PartitionAnswer[] }>; bytes: number } {
  let bytes = 0;
  const answers = topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition): PartitionAnswer => {
      const resolved = resolvePartition(server, principal, topic.name, partition.index);
      if (!resolved.log) return { index: partition.index, error: resolved.error, highWatermark: -1, logStartOffset: -1, batches: [] };
      const { log } = resolved;
      const answer = { index: partition.index, error: ERROR.none, highWatermark: log.endSequenceNumber, logStartOffset: logStart(log), batches: [] as Buffer[] };
      if (partition.fetchOffset < answer.logStartOffset || partition.fetchOffset > answer.highWatermark) return { ...answer, error: ERROR.offsetOutOfRange };
      const budget = Math.min(partition.maxBytes, maxBytes - bytes);
      if (budget <= 0 && bytes > 0) return answer;
      const read = readPartition(log, partition.fetchOffset, budget, bytes === 0);
      bytes += read.bytes;
      return { ...answer, batches: read.batches };
    }),
  }));
  return { answers, bytes };
}

/** Resolves at the first append to any of the logs, after `ms`, or when the connection closes. */
function nextAppend(logs: PartitionLog[], ms: number, closed: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribes: Array<() => void> = [];
    const done = () => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const log of logs) unsubscribes.push(log.onAppend(done));
    void closed.then(done);
  });
}

function readFetchTopics(body: Reader, version: number): FetchTopic[] {
  return body.array((topic) => {
    const name = topic.string();
    const partitions = topic.array((p) => {
      const index = p.int32();
      if (version >= 9) p.int32(); // current leader epoch
      const fetchOffset = p.int64();
      if (version >= 12) p.int32(); // last fetched epoch
      if (version >= 5) p.int64(); // log start offset (followers only)
      const maxBytes = p.int32();
      p.taggedFields();
      return { index, fetchOffset, maxBytes };
    });
    topic.taggedFields();
    return { name, partitions };
  });
}

export async function fetch(request: KafkaRequest): Promise<Writer> {
  const { body, apiVersion: version, server, connection } = request;
  body.int32(); // replica id
  const maxWaitMs = body.int32();
  const minBytes = body.int32();
  const maxBytes = Math.min(version >= 3 ? body.int32() : server.maxFetchBytes, server.maxFetchBytes);
  if (version >= 4) body.int8(); // isolation level: no transactions, so committed and uncommitted reads are the same
  let sessionId = 0;
  if (version >= 7) {
    sessionId = body.int32();
    body.int32(); // session epoch
  }
  const topics = readFetchTopics(body, version);
  if (version >= 7) {
    body.array((forgotten) => {
      forgotten.string();
      forgotten.array((p) => p.int32());
      forgotten.taggedFields();
    });
  }
  if (version >= 11) body.string(); // rack id
  body.taggedFields();

  const principal = connection.principal!;
  const deadline = server.now() + Math.max(maxWaitMs, 0);
  let result = collect(server, principal, topics, maxBytes);
  const logs = topics.flatMap((t) => t.partitions.map((p) => resolvePartition(server, principal, t.name, p.index).log)).filter((log): log is PartitionLog => log !== undefined);
  // Fetch sessions (KIP-227) are not kept: session id 0 tells the client to send full requests.
  while (sessionId === 0 && result.bytes < minBytes && logs.length > 0 && server.now() < deadline) {
    await nextAppend(logs, deadline - server.now(), connection.closed);
    result = collect(server, principal, topics, maxBytes);
  }

  const out = responseWriter(request);
  if (version >= 1) out.int32(0); // throttle time
  if (version >= 7) out.int16(sessionId === 0 ? ERROR.none : FETCH_SESSION_ID_NOT_FOUND).int32(0);
  out.array(sessionId === 0 ? result.answers : [], (w, topic) => {
    w.string(topic.name);
    w.array(topic.partitions, (p, answer) => {
      p.int32(answer.index).int16(answer.error).int64(answer.highWatermark);
      if (version >= 4) p.int64(answer.highWatermark); // last stable offset
      if (version >= 5) p.int64(answer.logStartOffset);
      if (version >= 4) p.array([] as number[], (a, id) => a.int64(id)); // aborted transactions: none
      if (version >= 11) p.int32(-1); // preferred read replica
      const size = answer.batches.reduce((total, batch) => total + batch.length, 0);
      if (p.flexible) p.uvarint(size + 1);
      else p.int32(size);
      for (const batch of answer.batches) p.raw(batch);
      p.taggedFields();
    });
    w.taggedFields();
  });
  return out.taggedFields();
}

/** The offset a ListOffsets timestamp names: latest, earliest, the last event, or the first enqueued at or after a time. */
function offsetForTimestamp(log: PartitionLog, timestamp: number): { offset: number; timestamp: number } {
  if (timestamp === LATEST) return { offset: log.endSequenceNumber, timestamp: -1 };
  if (timestamp === EARLIEST) return { offset: logStart(log), timestamp: -1 };
  if (timestamp === MAX_TIMESTAMP) {
    const last = log.lastEnqueued;
    return last && !log.isEmpty ? { offset: last.sequenceNumber, timestamp: last.enqueuedTimeMs } : { offset: -1, timestamp: -1 };
  }
  const start = log.startFor({ kind: "enqueuedTime", timeMs: timestamp, inclusive: true });
  const offset = "next" in start ? start.next : log.endSequenceNumber;
  const event = log.read(offset, 1)[0];
  return event ? { offset: event.sequenceNumber, timestamp: event.enqueuedTimeMs } : { offset: -1, timestamp: -1 };
}

export function listOffsets(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server, connection } = request;
  body.int32(); // replica id
  if (version >= 2) body.int8(); // isolation level
  const topics = body.array((topic) => {
    const name = topic.string();
    const partitions = topic.array((p) => {
      const index = p.int32();
      if (version >= 4) p.int32(); // current leader epoch
      const timestamp = p.int64();
      if (version === 0) p.int32(); // max number of offsets
      p.taggedFields();
      return { index, timestamp };
    });
    topic.taggedFields();
    return { name, partitions };
  });
  body.taggedFields();

  const out = responseWriter(request);
  if (version >= 2) out.int32(0);
  out.array(topics, (w, topic) => {
    w.string(topic.name);
    w.array(topic.partitions, (p, partition) => {
      const resolved = resolvePartition(server, connection.principal!, topic.name, partition.index);
      const found = resolved.log ? offsetForTimestamp(resolved.log, partition.timestamp) : { offset: -1, timestamp: -1 };
      p.int32(partition.index).int16(resolved.error ?? ERROR.none);
      if (version === 0) p.array(found.offset >= 0 ? [found.offset] : [], (o, offset) => o.int64(offset));
      else p.int64(found.timestamp).int64(found.offset);
      if (version >= 4) p.int32(0); // leader epoch
      p.taggedFields();
    });
    w.taggedFields();
  });
  return out.taggedFields();
}
