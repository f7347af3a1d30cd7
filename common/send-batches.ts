// The one createBatch / tryAdd / sendBatch loop: fills each batch as far as the link allows, sends it, and
// starts the next. tryAdd refuses what does not fit; an event that does not fit even an empty batch is an
// error naming it, never an event left out without a word.
import type { EventData, EventHubProducerClient } from "@azure/event-hubs";
import { plural } from "./plural";

export interface SendBatchesOptions {
  /** Every event to this partition; or partitionKey, or neither (the service spreads the batches). */
  partitionId?: string;
  partitionKey?: string;
  /** Smaller batches than the link's limit. */
  maxSizeInBytes?: number;
  abortSignal?: AbortSignal;
  /** Told, after each batch is stored, how many of the events (from the first, in order) are stored so far. */
  onBatchSent?: (eventsSent: number) => void;
}

export interface SentBatches {
  events: number;
  batches: number;
}

export class EventTooLargeError extends Error {
  constructor(
    readonly index: number,
    readonly messageId: EventData["messageId"],
    readonly bodyBytes: number,
    readonly maxSizeInBytes: number,
    readonly sentBefore: number,
  ) {
    const id = messageId === undefined ? "" : `, messageId ${JSON.stringify(String(messageId))}`;
    super(
      `event ${index} (body ${bodyBytes} bytes${id}) does not fit in an empty batch of at most ${maxSizeInBytes} bytes; ` +
        `the ${plural(sentBefore, "event")} before it ${sentBefore === 1 ? "was" : "were"} sent, it and the rest were not`,
    );
    this.name = "EventTooLargeError";
  }
}

/** Sends the events in order, in as few batches as fit; resolves once every batch is stored. */
export async function sendBatches(
  producer: Pick<EventHubProducerClient, "createBatch" | "sendBatch">,
  events: Iterable<EventData>,
  options: SendBatchesOptions = {},
): Promise<SentBatches> {
  const { abortSignal, onBatchSent, ...batchOptions } = options;
  const newBatch = () => producer.createBatch({ ...batchOptions, abortSignal });
  let batch = await newBatch();
  let sent = 0;
  let batches = 0;
  let index = 0;
  for (const event of events) {
    if (!batch.tryAdd(event)) {
      if (batch.count > 0) {
        await producer.sendBatch(batch, { abortSignal });
        [sent, batches] = [sent + batch.count, batches + 1];
        onBatchSent?.(sent);
        batch = await newBatch();
      }
      if (!batch.tryAdd(event)) throw new EventTooLargeError(index, event.messageId, bodyBytes(event.body), batch.maxSizeInBytes, sent);
    }
    index++;
  }
  if (batch.count > 0) {
    await producer.sendBatch(batch, { abortSignal });
    [sent, batches] = [sent + batch.count, batches + 1];
    onBatchSent?.(sent);
  }
  return { events: sent, batches };
}

/** The body's size as the message carries it, near enough to tell what was too large. */
function bodyBytes(body: unknown): number {
  if (body instanceof Uint8Array) return body.byteLength;
  if (typeof body === "string") return Buffer.byteLength(body);
  return Buffer.byteLength(JSON.stringify(body) ?? "");
}
