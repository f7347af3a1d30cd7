import type { ReceivedEventData } from "@azure/event-hubs";
import { PoisonEventError, type EventInput } from "./processing/processor";

/**
 * Turns a received event into the plain EventInput a processor sees.
 *
 * Expects the subscription to use `skipParsingBodyAsJson: true`, so a data-section body arrives as the raw
 * bytes that were sent and is decoded here by its content type:
 * - `application/json` or `*+json`: parsed JSON; invalid JSON or UTF-8 is a poison event;
 * - `text/*`: UTF-8 text; invalid UTF-8 is a poison event;
 * - any other content type (e.g. `application/octet-stream`): the bytes, as a Uint8Array;
 * - no content type: JSON when the bytes parse as JSON (the SDK's producers JSON-encode non-binary bodies
 *   without setting one), else UTF-8 text when valid, else the bytes.
 * Bodies that are not bytes (AMQP value/sequence sections, or bodies the SDK already parsed when
 * skipParsingBodyAsJson is off) pass through unchanged.
 */
export function decodeEvent(partitionId: string, event: ReceivedEventData): EventInput {
  const input: EventInput = {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTimeUtc: toIsoTime(event.enqueuedTimeUtc),
    body: decodeBody(event.body, event.contentType),
    properties: { ...event.properties },
  };
  const messageId = messageIdOf(event);
  if (messageId !== undefined) input.messageId = messageId;
  if (event.contentType !== undefined) input.contentType = event.contentType;
  return input;
}

export function messageIdOf(event: ReceivedEventData): string | undefined {
  const id = event.messageId;
  if (id === undefined || id === null) return undefined;
  return Buffer.isBuffer(id) ? id.toString("hex") : String(id);
}

export function toIsoTime(value: Date | number | string | undefined): string {
  const date = value instanceof Date ? value : new Date(value ?? 0);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function decodeBody(body: unknown, contentType: string | undefined): unknown {
  if (!(body instanceof Uint8Array)) return body;
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === undefined || mediaType === "") return decodeUntyped(bytes);
  if (isJsonMediaType(mediaType)) {
    const text = utf8OrUndefined(bytes);
    if (text === undefined) throw new PoisonEventError(`body is not valid UTF-8 but contentType is "${contentType}"`);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new PoisonEventError(`body is not valid JSON but contentType is "${contentType}": ${(error as Error).message}`);
    }
  }
  if (mediaType.startsWith("text/")) {
    const text = utf8OrUndefined(bytes);
    if (text === undefined) throw new PoisonEventError(`body is not valid UTF-8 but contentType is "${contentType}"`);
    return text;
  }
  return Uint8Array.from(bytes);
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

function decodeUntyped(bytes: Uint8Array): unknown {
  const text = utf8OrUndefined(bytes);
  if (text === undefined) return Uint8Array.from(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
