import { isRestError, type ContainerClient } from "@azure/storage-blob";
import { deadLetterBlobName, type DeadLetterBody, type DeadLetterRecord } from "../common/dead-letter-record";
import { isJsonMediaType, jsonTooDeep, utf8OrUndefined } from "./decode-event";

/** Writes each dead letter as one JSON blob, named by deadLetterBlobName: written again, it overwrites the same blob. */
export class BlobDeadLetterStore {
  constructor(
    private readonly container: ContainerClient,
    private readonly source: { eventHubName: string; consumerGroup: string },
  ) {}

  async put(record: DeadLetterRecord): Promise<void> {
    const name = deadLetterBlobName(this.source, record.partitionId, record.sequenceNumber);
    const json = serializeDeadLetter(record);
    const upload = () =>
      this.container.getBlockBlobClient(name).upload(json, Buffer.byteLength(json), {
        blobHTTPHeaders: { blobContentType: "application/json" },
      });
    try {
      await upload();
    } catch (error) {
      // The container was deleted while we run: create it again rather than fail every dead letter from now on.
      if (!(isRestError(error) && error.statusCode === 404)) throw error;
      await this.container.createIfNotExists();
      await upload();
    }
  }
}

/**
 * The record as JSON text; never throws, so writing a dead letter can only fail for storage reasons (a
 * serialisation error would fail on every retry and hold the partition for good). A body or properties
 * that cannot be serialised (nested too deep for JSON.stringify, for one) are left out and the reason is
 * recorded; byte bodies never need that, because deadLetterBody keeps them as text or base64.
 */
export function serializeDeadLetter(record: DeadLetterRecord): string {
  try {
    return JSON.stringify(record, jsonSafeReplacer);
  } catch (error) {
    const reason = `${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    const bodyFails = failsToSerialize(record.body);
    const propertiesFail = failsToSerialize(record.properties);
    const left = [bodyFails ? "body" : "", propertiesFail ? "properties" : ""].filter(Boolean).join(" and ") || "nothing";
    const fallback: DeadLetterRecord = {
      ...record,
      body: bodyFails ? { encoding: "omitted", data: null } : record.body,
      properties: propertiesFail ? {} : record.properties,
      unserialisable: `could not write the record as JSON (${reason}); left out: ${left}`,
    };
    return JSON.stringify(fallback, jsonSafeReplacer);
  }
}

function failsToSerialize(value: unknown): boolean {
  try {
    JSON.stringify(value, jsonSafeReplacer);
    return false;
  } catch {
    return true;
  }
}

/**
 * The body as it was sent. Bytes become JSON when they are JSON (declared or undeclared) and not nested too
 * deep to write back, else UTF-8 text, else base64; a body that was never bytes (an AMQP value, or already
 * parsed) is kept as JSON.
 */
export function deadLetterBody(body: unknown, contentType: string | undefined): DeadLetterBody {
  if (!(body instanceof Uint8Array)) return { encoding: "json", data: body ?? null };
  const text = utf8OrUndefined(body);
  if (text === undefined) return { encoding: "base64", data: Buffer.from(body).toString("base64") };
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (!jsonTooDeep(text) && (mediaType === undefined || mediaType === "" || isJsonMediaType(mediaType))) {
    try {
      return { encoding: "json", data: JSON.parse(text) as unknown };
    } catch {
      // not JSON: keep the exact text below
    }
  }
  return { encoding: "utf8", data: text };
}

/** Application properties may hold bytes; JSON.stringify would turn a Buffer into {type,data} noise. */
function jsonSafeReplacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
  if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    return { base64: Buffer.from((value as { data: number[] }).data).toString("base64") };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
