// Reads everything a hub holds (consumer group $Default, no checkpoints), for asserting what a replay sent.
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";

export interface HubEvent {
  partitionId: string;
  sequenceNumber: number;
  messageId: unknown;
  partitionKey: string | null;
  properties: Record<string, unknown>;
  body: unknown;
}

/** Every retained event of every partition, read up to the last enqueued sequence number seen at the start. */
export async function readHub(connectionString: string, eventHubName: string, timeoutMs = 20_000): Promise<HubEvent[]> {
  const client = new EventHubConsumerClient("$Default", connectionString, eventHubName);
  try {
    const ends = new Map<string, number>();
    for (const id of await client.getPartitionIds()) {
      const p = await client.getPartitionProperties(id);
      if (!p.isEmpty) ends.set(id, p.lastEnqueuedSequenceNumber);
    }
    const events: HubEvent[] = [];
    const done = () => [...ends].every(([id, last]) => events.some((e) => e.partitionId === id && e.sequenceNumber === last));
    if (done()) return events;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading hub ${eventHubName} took over ${timeoutMs} ms`)), timeoutMs);
      const subscription = client.subscribe(
        {
          processEvents: async (batch: ReceivedEventData[], context) => {
            for (const e of batch) {
              events.push({ partitionId: context.partitionId, sequenceNumber: e.sequenceNumber, messageId: e.messageId, partitionKey: e.partitionKey, properties: e.properties ?? {}, body: e.body });
            }
            if (done()) {
              clearTimeout(timer);
              await subscription.close();
              resolve();
            }
          },
          processError: async () => undefined,
        },
        { startPosition: earliestEventPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 1 },
      );
    });
    return events;
  } finally {
    await client.close();
  }
}
