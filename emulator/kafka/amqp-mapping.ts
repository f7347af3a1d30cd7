// How one event looks on each side, after Microsoft's "Exchange events between consumers and producers
// that use different protocols: AMQP, Kafka" and the Java SDK's producer troubleshooting page:
//   - body: a Kafka value is the AMQP data section's bytes and the reverse (a null value is an
//     amqp-value null, so it reads back as null rather than as empty);
//   - headers and application properties: a Kafka header becomes an application property whose value is
//     binary (the bytes as sent); an AMQP application property reaches Kafka consumers as a header whose
//     value is the property's AMQP encoding, type constructor included (binary ones as their bytes);
//   - keys: Event Hubs does not promote a Kafka key to the partition key nor the reverse. The Kafka key is
//     kept in the `x-opt-kafka-key` message annotation (binary), as Event Hubs exposes it to AMQP readers;
//     an AMQP partition key reaches Kafka consumers as the `x-opt-partition-key` header (UTF-8).
// Events are stored once, as AMQP messages, in the same partition logs the AMQP side uses.
import {
  encodeBinary,
  encodeMap,
  encodeRaw,
  encodeSection,
  encodeString,
  encodeSymbol,
  entryValueStart,
  readMapEntries,
  skipValue,
  variableWidthPayload,
  type Encoded,
} from "../amqp-codec";
import { SECTION, splitSections } from "../amqp-message";
import type { StoredEvent } from "../partition-log";
import type { KafkaHeader, KafkaRecord } from "./records";

export const KAFKA_KEY_ANNOTATION = "x-opt-kafka-key";
export const PARTITION_KEY_HEADER = "x-opt-partition-key";

const AMQP_NULL = encodeRaw(Buffer.from([0x40]));
const BINARY_CODES = new Set([0xa0, 0xb0]);

function toBytes(encoded: Encoded): Buffer {
  const out = Buffer.allocUnsafe(encoded.size);
  encoded.write(out, 0);
  return out;
}

/** The AMQP message stored for a record a Kafka producer sent. */
export function amqpMessageFromKafka(record: KafkaRecord): Buffer {
  const sections: Encoded[] = [];
  if (record.key !== null) {
    sections.push(encodeSection(SECTION.messageAnnotations, encodeMap([encodeSymbol(KAFKA_KEY_ANNOTATION), encodeBinary(record.key)], 2)));
  }
  if (record.headers.length > 0) {
    // AMQP properties are a map: a key sent twice keeps its last value (Kafka's `lastHeader`).
    const latest = new Map<string, Buffer | null>();
    for (const header of record.headers) latest.set(header.key, header.value);
    const elements = [...latest].flatMap(([key, value]) => [encodeString(key), value === null ? AMQP_NULL : encodeBinary(value)]);
    sections.push(encodeSection(SECTION.applicationProperties, encodeMap(elements, elements.length)));
  }
  sections.push(record.value === null ? encodeSection(SECTION.value, AMQP_NULL) : encodeSection(SECTION.data, encodeBinary(record.value)));
  return Buffer.concat(sections.map(toBytes));
}

/** The value of a map entry or section as Kafka sees it: binary as its bytes, null as null, else its AMQP encoding. */
function kafkaBytes(buf: Buffer, valueStart: number, valueEnd: number): Buffer | null {
  const code = buf[valueStart];
  if (code === 0x40) return null;
  if (code !== undefined && BINARY_CODES.has(code)) {
    const { start, end } = variableWidthPayload(buf, valueStart);
    return buf.subarray(start, end);
  }
  return buf.subarray(valueStart, valueEnd);
}

/** The record a Kafka consumer receives for a stored event, whichever protocol sent it. */
export function kafkaRecordFromAmqp(event: StoredEvent): KafkaRecord {
  const bytes = event.bytes;
  let key: Buffer | null = null;
  const headers: KafkaHeader[] = [];
  const body: Buffer[] = [];
  let value: Buffer | null = null;
  let hasBody = false;
  for (const section of splitSections(bytes)) {
    if (section.code === SECTION.messageAnnotations) {
      const entry = readMapEntries(bytes, section.valueStart).find((e) => e.key === KAFKA_KEY_ANNOTATION);
      if (entry) {
        const start = entryValueStart(bytes, entry);
        key = kafkaBytes(bytes, start, entry.end);
      }
    } else if (section.code === SECTION.applicationProperties) {
      for (const entry of readMapEntries(bytes, section.valueStart)) {
        if (entry.key === undefined) continue; // Kafka header keys are strings
        const start = entryValueStart(bytes, entry);
        headers.push({ key: entry.key, value: kafkaBytes(bytes, start, entry.end) });
      }
    } else if (section.code === SECTION.data) {
      const { start, end } = variableWidthPayload(bytes, section.valueStart);
      body.push(bytes.subarray(start, end));
      hasBody = true;
    } else if (section.code === SECTION.value || section.code === SECTION.sequence) {
      const encoded = kafkaBytes(bytes, section.valueStart, skipValue(bytes, section.valueStart));
      if (encoded !== null) body.push(encoded);
      hasBody ||= encoded !== null;
    }
  }
  if (hasBody) value = body.length === 1 ? body[0]! : Buffer.concat(body);
  if (event.partitionKey !== undefined) headers.push({ key: PARTITION_KEY_HEADER, value: Buffer.from(event.partitionKey, "utf8") });
  return { key, value, headers };
}
