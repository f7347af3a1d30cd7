// Produce (v3-v9): record batch v2, CRC-32C checked, gzip or uncompressed (other codecs get the error
// Event Hubs gives, UNSUPPORTED_FOR_MESSAGE_FORMAT: "The message format version on the broker does not
// support the request"). Each record is stored as one AMQP event in the hub partition the client chose;
// its Kafka offset is the event's sequence number and its timestamp the enqueued time (log append time).
import type { Reader, Writer } from "../codec";
import { KafkaDecodeError } from "../codec";
import { responseWriter, type KafkaRequest, type KafkaServerContext } from "../context";
import { ERROR } from "../errors";
import { amqpMessageFromKafka } from "../amqp-mapping";
import { decodeRecordBatches, RecordBatchError, type RecordBatch } from "../records";
import { mayUse, type KafkaPrincipal } from "../sasl-plain";

/** How far a gzip batch may inflate, as a multiple of the largest event. */
const MAX_INFLATION = 16;

interface PartitionResult {
  index: number;
  error: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  message: string | null;
}

interface PartitionData {
  index: number;
  records: Buffer | null;
}

function readTopicData(body: Reader): Array<{ name: string; partitions: PartitionData[] }> {
  return body.array((topic) => {
    const name = topic.string();
    const partitions = topic.array((p) => {
      const index = p.int32();
      const records = p.nullableBytes();
      p.taggedFields();
      return { index, records };
    });
    topic.taggedFields();
    return { name, partitions };
  });
}

const failure = (index: number, error: number, message: string): PartitionResult => ({ index, error, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, message });

function appendBatch(server: KafkaServerContext, hubName: string, partition: PartitionData, batches: RecordBatch[]): PartitionResult {
  const log = server.namespace.hub(hubName)!.partition(String(partition.index))!;
  const sequenceKey = `${hubName.toLowerCase()}/${partition.index}`;
  let first: { baseOffset: number; time: number } | undefined;
  for (const batch of batches) {
    if (batch.isTransactional || batch.isControl) {
      return failure(partition.index, ERROR.invalidRecord, "Transactional and control batches are not supported by this emulator (Event Hubs supports transactions on Premium and Dedicated only).");
    }
    const idempotent = batch.producerId >= 0;
    if (idempotent) {
      const check = server.producers.check(batch.producerId, batch.producerEpoch, sequenceKey, batch.baseSequence, batch.count);
      if (check.kind === "error") return failure(partition.index, check.code, check.message);
      if (check.kind === "duplicate") {
        first ??= { baseOffset: check.baseOffset, time: -1 };
        continue;
      }
    }
    const events = batch.records.map((record) => ({ bytes: amqpMessageFromKafka(record) }));
    const tooLarge = events.find((event) => event.bytes.length > server.config.maxMessageBytes);
    if (tooLarge) {
      return failure(partition.index, ERROR.messageTooLarge, `A record of ${tooLarge.bytes.length} bytes (as an event) exceeds the limit of ${server.config.maxMessageBytes} bytes.`);
    }
    const stored = log.append(events, server.now());
    const head = stored[0];
    if (!head) continue;
    if (idempotent) server.producers.appended(batch.producerId, batch.producerEpoch, sequenceKey, batch.baseSequence, batch.count, head.sequenceNumber);
    first ??= { baseOffset: head.sequenceNumber, time: head.enqueuedTimeMs };
  }
  return {
    index: partition.index,
    error: ERROR.none,
    baseOffset: first?.baseOffset ?? log.endSequenceNumber,
    logAppendTimeMs: first?.time ?? -1,
    logStartOffset: Math.max(log.beginSequenceNumber, 0),
    message: null,
  };
}

function producePartition(server: KafkaServerContext, principal: KafkaPrincipal, topic: string, partition: PartitionData, transactional: boolean): PartitionResult {
  const hub = server.namespace.hub(topic);
  if (!hub) return failure(partition.index, ERROR.unknownTopicOrPartition, `Event hub '${topic}' does not exist in namespace '${server.namespace.name}'.`);
  if (!mayUse(principal, topic)) return failure(partition.index, ERROR.topicAuthorizationFailed, `The connection string does not grant access to '${topic}'.`);
  if (!hub.partition(String(partition.index))) return failure(partition.index, ERROR.unknownTopicOrPartition, `Event hub '${topic}' has no partition ${partition.index}.`);
  if (transactional) return failure(partition.index, ERROR.transactionalIdAuthorizationFailed, "Transactions are not supported by this emulator.");
  if (partition.records === null || partition.records.length === 0) return failure(partition.index, ERROR.invalidRecord, "The request carries no records.");
  try {
    const batches = decodeRecordBatches(partition.records, {
      maxUncompressedBytes: server.config.maxMessageBytes * MAX_INFLATION,
      unsupportedCodecError: ERROR.unsupportedForMessageFormat,
      corruptError: ERROR.corruptMessage,
      tooLargeError: ERROR.messageTooLarge,
    });
    return appendBatch(server, hub.name, partition, batches);
  } catch (error) {
    if (error instanceof RecordBatchError) return failure(partition.index, error.code, error.message);
    if (error instanceof KafkaDecodeError) return failure(partition.index, ERROR.corruptMessage, `A record does not decode: ${error.message}`);
    throw error;
  }
}

export function produce(request: KafkaRequest): Writer | undefined {
  const { body, apiVersion: version, server, connection } = request;
  const transactionalId = version >= 3 ? body.nullableString() : null;
  const acks = body.int16();
  body.int32(); // timeout: appends are synchronous
  const topics = readTopicData(body);
  body.taggedFields();

  const results = topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => producePartition(server, connection.principal!, topic.name, partition, transactionalId !== null)),
  }));
  if (acks === 0) return undefined; // the protocol sends no response to acks=0

  const out = responseWriter(request);
  out.array(results, (w, topic) => {
    w.string(topic.name);
    w.array(topic.partitions, (p, result) => {
      p.int32(result.index).int16(result.error).int64(result.baseOffset);
      if (version >= 2) p.int64(result.logAppendTimeMs);
      if (version >= 5) p.int64(result.logStartOffset);
      if (version >= 8) {
        p.array([] as number[], (e, index) => e.int32(index)); // per-record errors: whole batches fail here
        p.nullableString(result.message);
      }
      p.taggedFields();
    });
    w.taggedFields();
  });
  if (version >= 1) out.int32(0); // throttle time
  return out.taggedFields();
}

/**
 * InitProducerId: an id for an idempotent producer. A transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED: the emulator has no transactions (Event Hubs offers them on
 * Premium and Dedicated only).
 */
export function initProducerId(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const transactionalId = body.nullableString();
  body.int32(); // transaction timeout
  const existingId = version >= 3 ? body.int64() : -1;
  const existingEpoch = version >= 3 ? body.int16() : -1;
  body.taggedFields();
  const out = responseWriter(request).int32(0);
  if (transactionalId !== null) return out.int16(ERROR.transactionalIdAuthorizationFailed).int64(-1).int16(-1).taggedFields();
  const granted = server.producers.initProducerId(existingId, existingEpoch);
  return out.int16(ERROR.none).int64(granted.producerId).int16(granted.producerEpoch).taggedFields();
}
