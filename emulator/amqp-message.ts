// Message-level byte surgery on encoded AMQP messages:
//  - split a message into its sections without decoding them;
//  - unpack the SDK's batch envelope (format 0x80013700) into the original bytes of each event;
//  - build the bytes of a delivered event: the stored sections unchanged, with the broker's message
//    annotations merged in and optional delivery annotations (spec §4.3, §5.6);
//  - decode a request (CBS, management) only once its sections are known to be sound.
import { message as rheaMessage, type Message } from "rhea";
import {
  AmqpDecodeError,
  type Encoded,
  encodeLong,
  encodeMap,
  encodeRaw,
  encodeSection,
  encodeString,
  encodeSymbol,
  encodeTimestamp,
  entryValueStart,
  readMapEntries,
  readText,
  skipValue,
  variableWidthPayload,
} from "./amqp-codec";

export const BATCH_MESSAGE_FORMAT = 0x80013700;

export const SECTION = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  sequence: 0x76,
  value: 0x77,
  footer: 0x78,
} as const;

const SYMBOLIC_SECTIONS: Record<string, number> = {
  "amqp:header:list": SECTION.header,
  "amqp:delivery-annotations:map": SECTION.deliveryAnnotations,
  "amqp:message-annotations:map": SECTION.messageAnnotations,
  "amqp:properties:list": SECTION.properties,
  "amqp:application-properties:map": SECTION.applicationProperties,
  "amqp:data:binary": SECTION.data,
  "amqp:amqp-sequence:list": SECTION.sequence,
  "amqp:value:*": SECTION.value,
  "amqp:footer:map": SECTION.footer,
};

export interface SectionRange {
  code: number; // section descriptor, e.g. 0x75 for data
  start: number; // first byte of the section (the 0x00 constructor)
  valueStart: number; // first byte of the section's value
  end: number; // byte after the section
}

function sectionCode(buf: Buffer, pos: number): number {
  const code = buf[pos];
  if (code === 0x53) return buf[pos + 1] ?? -1;
  if (code === 0x80) return buf.readUInt32BE(pos + 1) === 0 ? buf.readUInt32BE(pos + 5) : -1;
  const symbolic = readText(buf, pos);
  return symbolic === undefined ? -1 : (SYMBOLIC_SECTIONS[symbolic] ?? -1);
}

/** Splits an encoded message into its sections; throws AmqpDecodeError on anything malformed. */
export function splitSections(buf: Buffer): SectionRange[] {
  const sections: SectionRange[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0x00) throw new AmqpDecodeError(`expected a described section at byte ${pos}`);
    const code = sectionCode(buf, pos + 1);
    if (code < SECTION.header || code > SECTION.footer) {
      throw new AmqpDecodeError(`unknown message section descriptor at byte ${pos + 1}`);
    }
    const valueStart = skipValue(buf, pos + 1);
    const end = skipValue(buf, valueStart);
    sections.push({ code, start: pos, valueStart, end });
    pos = end;
  }
  return sections;
}

const PARTITION_KEY = "x-opt-partition-key";

function annotationText(buf: Buffer, annotations: SectionRange | undefined, key: string): string | undefined {
  if (!annotations) return undefined;
  const entry = readMapEntries(buf, annotations.valueStart).find((e) => e.key === key);
  return entry ? readText(buf, entryValueStart(buf, entry)) : undefined;
}

export interface UnpackedBatch {
  events: Buffer[]; // each the complete original encoding of one event
  partitionKey: string | undefined; // from the envelope's message annotations
}

/**
 * Unpacks a batch envelope: every data section is one whole event message. The returned buffers are
 * views into `envelope`, so pass a buffer the caller owns.
 */
export function unpackBatchEnvelope(envelope: Buffer): UnpackedBatch {
  const sections = splitSections(envelope);
  const events: Buffer[] = [];
  for (const section of sections) {
    if (section.code !== SECTION.data) continue;
    const { start, end } = variableWidthPayload(envelope, section.valueStart);
    const event = envelope.subarray(start, end);
    splitSections(event); // validates that the data section really holds a message
    events.push(event);
  }
  if (events.length === 0) throw new AmqpDecodeError("the batch envelope holds no data sections");
  const annotations = sections.find((s) => s.code === SECTION.messageAnnotations);
  return { events, partitionKey: annotationText(envelope, annotations, PARTITION_KEY) };
}

/**
 * Decodes a whole message (a CBS or management request) after checking its sections here: rhea's
 * decoder prints what it cannot read, client bytes included, on stderr. Throws AmqpDecodeError.
 */
export function decodeMessage(bytes: Buffer): Message {
  splitSections(bytes);
  try {
    return { body: undefined, ...rheaMessage.decode(bytes) }; // a request without a body has none
  } catch (err) {
    throw new AmqpDecodeError((err as Error).message);
  }
}

/** The partition key written in a single (non-batch) event's message annotations, if any. */
export function partitionKeyOf(event: Buffer): string | undefined {
  const sections = splitSections(event);
  return annotationText(event, sections.find((s) => s.code === SECTION.messageAnnotations), PARTITION_KEY);
}

// ---- delivery ----

/** The header, delivery- or message-annotations section starting at `pos`, if that is what is there. */
function leadingSection(buf: Buffer, pos: number): SectionRange | undefined {
  if (pos >= buf.length || buf[pos] !== 0x00) return undefined;
  const code = sectionCode(buf, pos + 1);
  if (code !== SECTION.header && code !== SECTION.deliveryAnnotations && code !== SECTION.messageAnnotations) return undefined;
  const valueStart = skipValue(buf, pos + 1);
  return { code, start: pos, valueStart, end: skipValue(buf, valueStart) };
}

export interface BrokerAnnotations {
  sequenceNumber: number;
  offset: string;
  enqueuedTimeMs: number;
  partitionKey: string | undefined;
}

export interface RuntimeMetrics {
  lastSequenceNumber: number;
  lastOffset: string;
  lastEnqueuedTimeMs: number;
  retrievalTimeMs: number;
}

const KEY = {
  sequenceNumber: encodeSymbol("x-opt-sequence-number"),
  offset: encodeSymbol("x-opt-offset"),
  enqueuedTime: encodeSymbol("x-opt-enqueued-time"),
  partitionKey: encodeSymbol(PARTITION_KEY),
  lastSequenceNumber: encodeSymbol("last_enqueued_sequence_number"),
  lastOffset: encodeSymbol("last_enqueued_offset"),
  lastEnqueuedTime: encodeSymbol("last_enqueued_time_utc"),
  retrievalTime: encodeSymbol("runtime_info_retrieval_time_utc"),
};
const BROKER_KEYS = new Set(["x-opt-sequence-number", "x-opt-offset", "x-opt-enqueued-time"]);

/** Encodes the runtime-metric delivery-annotations section (spec §5.6). */
export function encodeRuntimeMetrics(metrics: RuntimeMetrics): Buffer {
  const section = encodeSection(
    SECTION.deliveryAnnotations,
    encodeMap(
      [
        KEY.lastSequenceNumber, encodeLong(metrics.lastSequenceNumber),
        KEY.lastOffset, encodeString(metrics.lastOffset),
        KEY.lastEnqueuedTime, encodeTimestamp(metrics.lastEnqueuedTimeMs),
        KEY.retrievalTime, encodeTimestamp(metrics.retrievalTimeMs),
      ],
      8,
    ),
  );
  const out = Buffer.allocUnsafe(section.size);
  section.write(out, 0);
  return out;
}

/**
 * Builds the transfer payload for a stored event: its header (if any), the given delivery
 * annotations, message annotations = the event's own (type-preserving raw copy) with the broker's
 * keys set, then every remaining section byte for byte. Existing delivery annotations are dropped:
 * they are hop-by-hop.
 */
export function buildDeliveryPayload(
  stored: Buffer,
  annotations: BrokerAnnotations,
  deliveryAnnotations?: Buffer,
): Buffer {
  // Only the leading header / annotation sections matter; the rest (properties, body) is copied as is.
  let headerEnd = 0;
  let restStart = 0;
  let ownAnnotations: SectionRange | undefined;
  for (let section = leadingSection(stored, 0); section; section = leadingSection(stored, section.end)) {
    if (section.code === SECTION.header) headerEnd = section.end;
    else if (section.code === SECTION.messageAnnotations) ownAnnotations = section;
    restStart = section.end;
  }

  const elements: Encoded[] = [];
  let elementCount = 0;
  if (ownAnnotations) {
    for (const entry of readMapEntries(stored, ownAnnotations.valueStart)) {
      if (entry.key !== undefined && BROKER_KEYS.has(entry.key)) continue;
      if (entry.key === PARTITION_KEY && annotations.partitionKey !== undefined) continue;
      elements.push(encodeRaw(stored.subarray(entry.start, entry.end)));
      elementCount += 2;
    }
  }
  elements.push(
    KEY.sequenceNumber, encodeLong(annotations.sequenceNumber),
    KEY.offset, encodeString(annotations.offset),
    KEY.enqueuedTime, encodeTimestamp(annotations.enqueuedTimeMs),
  );
  elementCount += 6;
  if (annotations.partitionKey !== undefined) {
    elements.push(KEY.partitionKey, encodeString(annotations.partitionKey));
    elementCount += 2;
  }
  const messageAnnotations = encodeSection(SECTION.messageAnnotations, encodeMap(elements, elementCount));

  const daSize = deliveryAnnotations?.length ?? 0;
  const out = Buffer.allocUnsafe(headerEnd + daSize + messageAnnotations.size + (stored.length - restStart));
  let pos = stored.copy(out, 0, 0, headerEnd);
  if (deliveryAnnotations) pos += deliveryAnnotations.copy(out, pos);
  pos = messageAnnotations.write(out, pos);
  stored.copy(out, pos, restStart);
  return out;
}
