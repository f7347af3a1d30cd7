// A dead letter as the worker stores it and the dead-letter tools read it: the record (one JSON blob per event) and
// the blob's name. Types and one pure function: the worker image and the explorer both load this file.

/** One event that could not be processed, with everything needed to inspect or replay it. */
export interface DeadLetterRecord {
  eventHubName: string;
  consumerGroup: string;
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: string;
  messageId?: string;
  contentType?: string;
  /** Set when the event was sent with one; a replay sends it with the same key. */
  partitionKey?: string;
  properties: Record<string, unknown>;
  body: DeadLetterBody;
  error: { name: string; message: string; attempts: number };
  deadLetteredAt: string;
  /** Set when the body or properties could not be written as they were: why, and what was left out. */
  unserialisable?: string;
}

export interface DeadLetterBody {
  /** "omitted": a body that was never bytes and cannot be written as JSON (see `unserialisable`). */
  encoding: "base64" | "json" | "utf8" | "omitted";
  data: unknown;
}

/**
 * `<hub>/<consumer group>/<partition>/<sequenceNumber>.json`: fixed per event, so writing a dead letter again after
 * a replay overwrites the same blob (idempotent).
 */
export function deadLetterBlobName(
  source: { eventHubName: string; consumerGroup: string },
  partitionId: string,
  sequenceNumber: number,
): string {
  return `${source.eventHubName}/${source.consumerGroup}/${partitionId}/${sequenceNumber}.json`;
}
