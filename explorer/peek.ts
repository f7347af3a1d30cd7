// Reads events of one partition from a position without a checkpoint store, so nothing is checkpointed and no
// ownership is claimed. Uses its own consumer group (default $Default): a worker's epoch receivers would
// disconnect a plain receiver in the workers' group.
import type { EventHubConsumerClient, EventPosition, ReceivedEventData } from "@azure/event-hubs";
import type { DeadLetterBody } from "../common/dead-letter-record";
import { deadLetterBody } from "../worker/index";

export interface PeekedEvent {
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: string;
  partitionKey: string | null;
  messageId: unknown;
  contentType: string | undefined;
  correlationId: unknown;
  /** Rendered the way dead letters are stored: JSON when it is JSON, else UTF-8 text, else base64. */
  body: DeadLetterBody;
  properties: Record<string, unknown>;
  systemProperties: Record<string, unknown>;
}

const MAX_WAIT_SECONDS = 2;

/** Up to `count` events from `position`; fewer when the partition has no more within a short wait. */
export async function peekEvents(client: EventHubConsumerClient, partitionId: string, position: EventPosition, count: number): Promise<PeekedEvent[]> {
  const events: PeekedEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void subscription.close().finally(() => (error ? reject(error) : resolve()));
    };
    // A bound on the whole read: the SDK retries a failing receive on its own.
    const timer = setTimeout(() => finish(), 15_000);
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (batch) => {
          for (const event of batch) if (events.length < count) events.push(toPeeked(event));
          // An empty batch means maxWaitTimeInSeconds passed with nothing more to read.
          if (batch.length === 0 || events.length >= count) finish();
        },
        processError: async (error) => finish(error),
      },
      { startPosition: position, maxBatchSize: count, maxWaitTimeInSeconds: MAX_WAIT_SECONDS },
    );
  });
  return events;
}

function toPeeked(event: ReceivedEventData): PeekedEvent {
  return {
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTimeUtc: event.enqueuedTimeUtc.toISOString(),
    partitionKey: event.partitionKey,
    messageId: event.messageId,
    contentType: event.contentType,
    correlationId: event.correlationId,
    body: deadLetterBody(event.body, event.contentType),
    properties: jsonSafe(event.properties ?? {}),
    systemProperties: jsonSafe(event.systemProperties ?? {}),
  };
}

function jsonSafe(values: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(values, (_key, value: unknown) => {
      if (typeof value === "bigint") return value.toString();
      if (value && typeof value === "object" && (value as { type?: unknown }).type === "Buffer") {
        return { base64: Buffer.from((value as { data: number[] }).data).toString("base64") };
      }
      return value;
    }),
  ) as Record<string, unknown>;
}

/** Enqueued times of single events (oldest retained, oldest unprocessed), cached: an event's time never changes. */
export class EnqueuedTimes {
  private readonly cache = new Map<string, Date | undefined>();

  constructor(private readonly clientOf: (hub: string) => EventHubConsumerClient) {}

  async of(hub: string, partitionId: string, sequenceNumber: number): Promise<Date | undefined> {
    const key = `${hub}/${partitionId}/${sequenceNumber}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const [event] = await peekEvents(this.clientOf(hub), partitionId, { sequenceNumber, isInclusive: true }, 1).catch(() => []);
    const time = event?.sequenceNumber === sequenceNumber ? new Date(event.enqueuedTimeUtc) : undefined;
    // Only found times are kept: a missing event may simply not be readable yet.
    if (time) this.cache.set(key, time);
    if (this.cache.size > 10_000) this.cache.clear();
    return time;
  }
}
