// Byte-level message handling: batch envelopes in, delivered messages out, with the stored sections
// untouched and AMQP types preserved.
import { message, types } from "rhea";
import { describe, expect, it } from "vitest";
import { AmqpDecodeError } from "../../emulator/amqp-codec";
import { buildDeliveryPayload, encodeRuntimeMetrics, splitSections, unpackBatchEnvelope } from "../../emulator/amqp-message";

const event = (body: string, annotations?: Record<string, unknown>): Buffer =>
  message.encode({
    durable: true,
    ...(annotations ? { message_annotations: annotations } : {}),
    message_id: `id-${body}`,
    application_properties: { big: types.wrap_ulong(5), tag: body },
    body: message.data_section(Buffer.from(body)),
  });

describe("batch envelopes", () => {
  it("yields each data section's original bytes and the envelope's partition key", () => {
    const events = [event("one"), event("two"), event("three")];
    const envelope = message.encode({
      message_annotations: { "x-opt-partition-key": "user-42" },
      body: message.data_sections(events),
    });
    const unpacked = unpackBatchEnvelope(envelope);
    expect(unpacked.partitionKey).toBe("user-42");
    expect(unpacked.events.map((e) => e.toString("hex"))).toEqual(events.map((e) => e.toString("hex")));
  });

  it("rejects bytes that are not an AMQP message", () => {
    expect(() => unpackBatchEnvelope(Buffer.from([0x00, 0x53, 0x75, 0xa0, 0x09, 1, 2]))).toThrow(AmqpDecodeError);
    expect(() => splitSections(Buffer.from("not amqp"))).toThrow(AmqpDecodeError);
  });
});

describe("delivered messages", () => {
  const annotations = { sequenceNumber: 7, offset: "1234", enqueuedTimeMs: 1_700_000_000_123, partitionKey: undefined };

  it("adds the broker annotations and keeps every other section byte for byte", () => {
    const stored = event("payload");
    const delivered = buildDeliveryPayload(stored, annotations);
    const decoded = message.decode(delivered);
    expect(decoded.message_annotations).toEqual({
      "x-opt-sequence-number": 7,
      "x-opt-offset": "1234",
      "x-opt-enqueued-time": new Date(1_700_000_000_123),
    });
    const tail = (buf: Buffer) => {
      const sections = splitSections(buf).filter((s) => s.code >= 0x73);
      return buf.subarray(sections[0]!.start);
    };
    expect(tail(delivered).equals(tail(stored))).toBe(true);
    expect(decoded.durable).toBe(true);
    expect(decoded.application_properties).toEqual({ big: 5, tag: "payload" });
  });

  it("keeps the event's own annotations with their AMQP types and replaces stale broker ones", () => {
    const stored = event("x", {
      "x-custom": types.wrap_ulong(9),
      "x-opt-sequence-number": types.wrap_long(99),
      "x-opt-partition-key": "from-event",
    });
    const delivered = buildDeliveryPayload(stored, { ...annotations, partitionKey: "from-batch" });
    expect(message.decode(delivered).message_annotations).toEqual({
      "x-custom": 9,
      "x-opt-sequence-number": 7,
      "x-opt-offset": "1234",
      "x-opt-enqueued-time": new Date(1_700_000_000_123),
      "x-opt-partition-key": "from-batch",
    });
    const section = splitSections(delivered).find((s) => s.code === 0x72)!;
    // The custom value is still a ulong (0x80 or smallulong 0x53), not re-typed by a decode/encode.
    const raw = delivered.subarray(section.valueStart, section.end);
    const keyAt = raw.indexOf(Buffer.from("x-custom"));
    expect([0x80, 0x53]).toContain(raw[keyAt + "x-custom".length]);
  });

  it("inserts runtime metrics as delivery annotations", () => {
    const metrics = encodeRuntimeMetrics({ lastSequenceNumber: 10, lastOffset: "2048", lastEnqueuedTimeMs: 5, retrievalTimeMs: 6 });
    const decoded = message.decode(buildDeliveryPayload(event("m"), annotations, metrics));
    expect(decoded.delivery_annotations).toEqual({
      last_enqueued_sequence_number: 10,
      last_enqueued_offset: "2048",
      last_enqueued_time_utc: new Date(5),
      runtime_info_retrieval_time_utc: new Date(6),
    });
    expect(decoded.message_annotations?.["x-opt-sequence-number"]).toBe(7);
  });
});
