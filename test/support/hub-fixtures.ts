// Event and blob fixtures for worker end-to-end tests: send to exact partitions, read checkpoint and
// ownership blobs (the layout BlobCheckpointStore and KEDA use), list dead letters.
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { key } from "./worker-process";

export interface SentEvent {
  partitionId: string;
  sequenceNumber: number;
  poison: boolean;
}

/**
 * Sends `perPartition` JSON text events to every partition (poison ones, declared JSON but cut off, where
 * `isPoison(i)`), and returns what the service assigned, from the partitions' sequence numbers.
 */
export async function sendToEveryPartition(
  connectionString: string,
  eventHubName: string,
  perPartition: number,
  isPoison: (index: number) => boolean = () => false,
): Promise<SentEvent[]> {
  const producer = new EventHubProducerClient(connectionString, eventHubName, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 },
  });
  try {
    const sent: SentEvent[] = [];
    for (const partitionId of await producer.getPartitionIds()) {
      const before = await producer.getPartitionProperties(partitionId);
      const first = before.isEmpty ? 0 : before.lastEnqueuedSequenceNumber + 1;
      let batch = await producer.createBatch({ partitionId });
      for (let i = 0; i < perPartition; i++) {
        const poison = isPoison(i);
        const json = JSON.stringify({ text: `Message ${i} for partition ${partitionId}: my order arrived late, please call me.` });
        const event = {
          body: Buffer.from(poison ? json.slice(0, 10) : json),
          contentType: "application/json",
          messageId: `p${partitionId}-${i}`,
        };
        if (!batch.tryAdd(event)) {
          await producer.sendBatch(batch);
          batch = await producer.createBatch({ partitionId });
          batch.tryAdd(event);
        }
        sent.push({ partitionId, sequenceNumber: first + i, poison });
      }
      await producer.sendBatch(batch);
    }
    return sent;
  } finally {
    await producer.close();
  }
}

export const keysOf = (events: Array<{ partitionId: string; sequenceNumber: number }>) =>
  new Set(events.map((e) => key(e.partitionId, e.sequenceNumber)));

interface StateBlob {
  partitionId: string;
  metadata: Record<string, string>;
}

async function listState(storageConnectionString: string, container: string, eventHubName: string, kind: "checkpoint" | "ownership"): Promise<StateBlob[]> {
  const containerClient = BlobServiceClient.fromConnectionString(storageConnectionString).getContainerClient(container);
  const blobs: StateBlob[] = [];
  for await (const blob of containerClient.listBlobsFlat({ includeMetadata: true })) {
    const parts = blob.name.split("/"); // <fqns>/<hub>/<cg>/<kind>/<partition>
    if (parts.at(-4) !== eventHubName.toLowerCase() || parts.at(-2) !== kind) continue;
    blobs.push({ partitionId: parts.at(-1) ?? "", metadata: blob.metadata ?? {} });
  }
  return blobs;
}

/** partition -> checkpointed sequence number. */
export async function readCheckpoints(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, number>> {
  const blobs = await listState(storageConnectionString, container, eventHubName, "checkpoint");
  return new Map(blobs.map((b) => [b.partitionId, Number(b.metadata.sequencenumber)]));
}

/** partition -> ownerid ("" once released). */
export async function readOwnership(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, string>> {
  const blobs = await listState(storageConnectionString, container, eventHubName, "ownership");
  return new Map(blobs.map((b) => [b.partitionId, b.metadata.ownerid ?? ""]));
}

/** Dead-letter blob names under `<hub>/`, with their parsed JSON. */
export async function readDeadLetters(storageConnectionString: string, container: string, eventHubName: string): Promise<Map<string, Record<string, unknown>>> {
  const containerClient = BlobServiceClient.fromConnectionString(storageConnectionString).getContainerClient(container);
  const letters = new Map<string, Record<string, unknown>>();
  for await (const blob of containerClient.listBlobsFlat({ prefix: `${eventHubName}/` })) {
    const buffer = await containerClient.getBlobClient(blob.name).downloadToBuffer();
    letters.set(blob.name, JSON.parse(buffer.toString("utf8")) as Record<string, unknown>);
  }
  return letters;
}
