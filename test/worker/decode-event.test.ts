import type { ReceivedEventData } from "@azure/event-hubs";
import { describe, expect, it } from "vitest";
import { decodeEvent, MAX_BODY_DEPTH } from "../../worker/decode-event";
import { isPoisonEventError } from "../../worker/failures";

// The SDK's own shape for a received event (what the subscription hands to processEvents).
function received(body: unknown, extra: Partial<ReceivedEventData> = {}): ReceivedEventData {
  return {
    body, sequenceNumber: 12, offset: "1200", enqueuedTimeUtc: new Date("2024-03-12T09:15:00Z"), partitionKey: null,
    properties: { tenant: "t1" }, getRawAmqpMessage: () => { throw new Error("not used"); }, ...extra,
  };
}

function decodeFailure(event: ReceivedEventData): unknown {
  try {
    decodeEvent("0", event);
  } catch (error) {
    return error;
  }
  throw new Error("expected decoding to fail");
}

describe("decodeEvent (skipParsingBodyAsJson: raw bytes decoded by content type)", () => {
  it("copies the event's position, ids and properties", () => {
    const input = decodeEvent("3", received(Buffer.from("hi"), { messageId: 99, contentType: "text/plain" }));
    expect(input).toEqual({
      partitionId: "3", sequenceNumber: 12, offset: "1200", enqueuedTimeUtc: "2024-03-12T09:15:00.000Z",
      messageId: "99", contentType: "text/plain", body: "hi", properties: { tenant: "t1" },
    });
  });

  it("parses JSON for application/json and +json, text for text/*, and keeps other types as bytes", () => {
    expect(decodeEvent("0", received(Buffer.from('{"text":"ok"}'), { contentType: "application/json; charset=utf-8" })).body).toEqual({ text: "ok" });
    expect(decodeEvent("0", received(Buffer.from("[1,2]"), { contentType: "application/cloudevents+json" })).body).toEqual([1, 2]);
    expect(decodeEvent("0", received(Buffer.from("plain words"), { contentType: "text/plain" })).body).toBe("plain words");
    const bytes = decodeEvent("0", received(Buffer.from([0, 1, 2]), { contentType: "application/octet-stream" })).body;
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(bytes)).toBe(false); // plain Uint8Array: clones cleanly into worker threads
    expect([...(bytes as Uint8Array)]).toEqual([0, 1, 2]);
  });

  it("without a content type: JSON if it parses, else UTF-8 text, else bytes", () => {
    expect(decodeEvent("0", received(Buffer.from('"quoted"'))).body).toBe("quoted");
    expect(decodeEvent("0", received(Buffer.from("{broken"))).body).toBe("{broken");
    expect(decodeEvent("0", received(Buffer.from([0xc3, 0x28]))).body).toBeInstanceOf(Uint8Array);
  });

  it("passes bodies that are not bytes through unchanged (AMQP value sections, or already parsed)", () => {
    expect(decodeEvent("0", received({ text: "parsed by the SDK" })).body).toEqual({ text: "parsed by the SDK" });
    expect(decodeEvent("0", received(42)).body).toBe(42);
  });

  it("makes an undecodable body a PoisonEventError that says why", () => {
    const badJson = decodeFailure(received(Buffer.from("{nope"), { contentType: "application/json" }));
    expect(isPoisonEventError(badJson)).toBe(true);
    expect((badJson as Error).message).toMatch(/body is not valid JSON but contentType is "application\/json"/);
    const badText = decodeFailure(received(Buffer.from([0xff, 0xfe]), { contentType: "text/plain" }));
    expect((badText as Error).message).toMatch(/not valid UTF-8 but contentType is "text\/plain"/);
  });

  it("makes a body nested deeper than MAX_BODY_DEPTH poison before it reaches a thread (cloning it would overflow the stack)", () => {
    const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
    for (const contentType of ["application/json", undefined]) {
      const deep = decodeFailure(received(Buffer.from(nested(5000)), contentType ? { contentType } : {}));
      expect(isPoisonEventError(deep)).toBe(true);
      expect((deep as Error).message).toBe(`body nests arrays/objects more than ${MAX_BODY_DEPTH} levels deep; at most ${MAX_BODY_DEPTH} are allowed`);
      expect(() => structuredClone(decodeEvent("0", received(Buffer.from(nested(MAX_BODY_DEPTH)), contentType ? { contentType } : {})).body)).not.toThrow();
    }
    const deepValue = JSON.parse(`{"a":${nested(5000)}}`) as unknown;
    expect(isPoisonEventError(decodeFailure(received(deepValue)))).toBe(true);
    // Brackets inside strings are text, not nesting; undeclared deep text that is not JSON stays text.
    const inString = JSON.stringify({ text: "[".repeat(5000) });
    expect(decodeEvent("0", received(Buffer.from(inString), { contentType: "application/json" })).body).toEqual({ text: "[".repeat(5000) });
    expect(decodeEvent("0", received(Buffer.from("[".repeat(5000)))).body).toBe("[".repeat(5000));
  });
});
