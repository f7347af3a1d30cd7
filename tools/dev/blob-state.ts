// Reads what the workers leave in storage: checkpoint and ownership blobs (the BlobCheckpointStore layout
// `<fqns>/<hub>/<consumer group>/{checkpoint,ownership}/<partition>`, state in metadata) and dead letters
// (`<hub>/<consumer group>/<partition>/<sequenceNumber>.json`).
import type { ContainerClient } from "@azure/storage-blob";

async function listState(container: ContainerClient, eventHubName: string, consumerGroup: string, kind: "checkpoint" | "ownership") {
  const found: Array<{ partitionId: string; metadata: Record<string, string> }> = [];
  for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
    const parts = blob.name.split("/");
    if (parts.at(-4) !== eventHubName.toLowerCase() || parts.at(-3) !== consumerGroup.toLowerCase() || parts.at(-2) !== kind) continue;
    found.push({ partitionId: parts.at(-1) ?? "", metadata: blob.metadata ?? {} });
  }
  return found;
}

/** partition -> checkpointed sequence number. */
export async function readCheckpoints(container: ContainerClient, eventHubName: string, consumerGroup: string): Promise<Map<string, number>> {
  const blobs = await listState(container, eventHubName, consumerGroup, "checkpoint");
  return new Map(blobs.map((b) => [b.partitionId, Number(b.metadata.sequencenumber)]));
}

/** partition -> owner id ("" once released). */
export async function readOwnership(container: ContainerClient, eventHubName: string, consumerGroup: string): Promise<Map<string, string>> {
  const blobs = await listState(container, eventHubName, consumerGroup, "ownership");
  return new Map(blobs.map((b) => [b.partitionId, b.metadata.ownerid ?? ""]));
}

/** partition -> dead-lettered sequence numbers. */
export async function readDeadLetterKeys(container: ContainerClient, eventHubName: string, consumerGroup: string): Promise<Map<string, Set<number>>> {
  const byPartition = new Map<string, Set<number>>();
  for await (const blob of container.listBlobsFlat({ prefix: `${eventHubName}/${consumerGroup}/` })) {
    const match = /\/([^/]+)\/(\d+)\.json$/.exec(blob.name);
    if (!match) continue;
    const [, partitionId = "", sequence = "0"] = match;
    const set = byPartition.get(partitionId) ?? new Set<number>();
    set.add(Number(sequence));
    byPartition.set(partitionId, set);
  }
  return byPartition;
}
