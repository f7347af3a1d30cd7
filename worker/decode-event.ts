import type { ReceivedEventData } from "@azure/event-hubs";
import { PoisonEventError } from "./failures";
import type { EventInput } from "./processing/processor";

/**
 * Turns a received event into the plain EventInput a processor sees.
 *
 * Expects the subscription to use `skipParsingBodyAsJson: true`, so a data-section body arrives as the raw
 * bytes that were sent and is decoded by its content type (see decodeBody).
 */
export function decodeEvent(partitionId: string, event: ReceivedEventData): EventInput {
  const input = receivedInput(partitionId, event);
  input.body = decodeBody(input.body, input.contentType);
  return input;
}

/**
 * The EventInput with its body as received, not decoded yet: for a processor that decodes bodies itself
 * (Processor.processReceived; the pool does it on its threads, off the event loop).
 */
export function receivedInput(partitionId: string, event: ReceivedEventData): EventInput {
  const input: EventInput = {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTimeUtc: toIsoTime(event.enqueuedTimeUtc),
    body: event.body,
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

/**
 * Deepest nesting of arrays and objects a body may have. Handing a value to a pool thread (structured clone)
 * and JSON.stringify recurse once per level and overflow the stack at a few thousand levels (about 10 KB of
 * `[`), which any producer can send; 1,000 keeps a wide margin and is far beyond real documents.
 */
export const MAX_BODY_DEPTH = 1000;

/** Whether JSON text nests arrays/objects deeper than `limit`. Linear, no recursion; strings are skipped. */
export function jsonTooDeep(text: string, limit = MAX_BODY_DEPTH): boolean {
  if (text.length <= limit) return false; // deeper needs more than `limit` brackets
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Whether a value nests arrays/objects deeper than `limit`. Iterative: a hostile value cannot overflow the stack. */
export function valueTooDeep(value: unknown, limit = MAX_BODY_DEPTH): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop() as [unknown, number];
    if (typeof current !== "object" || current === null || ArrayBuffer.isView(current)) continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

const tooDeep = () => new PoisonEventError(`body nests arrays/objects more than ${MAX_BODY_DEPTH} levels deep; at most ${MAX_BODY_DEPTH} are allowed`);

/**
 * A body as a processor sees it, decoded by its content type:
 * - `application/json` or `*+json`: parsed JSON; invalid JSON or UTF-8 is a poison event;
 * - `text/*`: UTF-8 text; invalid UTF-8 is a poison event;
 * - any other content type (e.g. `application/octet-stream`): the bytes, as a Uint8Array;
 * - no content type: JSON when the bytes parse as JSON (the SDK's producers JSON-encode non-binary bodies
 *   without setting one), else UTF-8 text when valid, else the bytes.
 * Bodies that are not bytes (AMQP value/sequence sections, or bodies the SDK already parsed when
 * skipParsingBodyAsJson is off) pass through unchanged.
 * A body nested deeper than MAX_BODY_DEPTH is a poison event, whatever its content type.
 */
export function decodeBody(body: unknown, contentType: string | undefined): unknown {
  if (!(body instanceof Uint8Array)) {
    if (valueTooDeep(body)) throw tooDeep();
    return body;
  }
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === undefined || mediaType === "") return decodeUntyped(bytes);
  if (isJsonMediaType(mediaType)) {
    const text = utf8OrUndefined(bytes);
    if (text === undefined) throw new PoisonEventError(`body is not valid UTF-8 but contentType is "${contentType}"`);
    if (jsonTooDeep(text)) throw tooDeep();
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
  if (jsonTooDeep(text)) {
    if (parsesAsJson(text)) throw tooDeep();
    return text;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** JSON.parse itself does not recurse, so checking a deep text this way is safe. */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
