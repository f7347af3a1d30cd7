// A consumer group as the workers leave it in the checkpoint container (BlobCheckpointStore layout, state in
// metadata): per partition the owner and when it last renewed, the checkpoint, and the lag behind the hub.
import type { ContainerClient } from "@azure/storage-blob";
import { checkpointBlobPrefix } from "../worker/index";
import type { HubView } from "./hubs";
import type { EnqueuedTimes } from "./peek";

export interface ConsumerPartitionView {
  id: string;
  /** "" once released; null when no worker ever claimed it. */
  ownerId: string | null;
  /** Seconds since the owner last renewed (the ownership blob's last write). */
  ownershipAgeSeconds: number | null;
  checkpoint: { sequenceNumber: number; offset: string; writtenAt: string } | null;
  /** Events enqueued after the checkpoint (all retained events without one). */
  lagEvents: number;
  /** How long the oldest unprocessed event has waited; 0 without lag. */
  lagSeconds: number | null;
}

export interface ConsumerGroupView {
  eventHubName: string;
  consumerGroup: string;
  checkpointContainer: string;
  partitions: ConsumerPartitionView[];
}

interface BlobState {
  metadata: Record<string, string>;
  lastModified: Date;
}

async function readState(container: ContainerClient, prefix: string): Promise<Map<string, BlobState>> {
  const state = new Map<string, BlobState>();
  for await (const blob of container.listBlobsFlat({ prefix, includeMetadata: true })) {
    state.set(blob.name.slice(prefix.length), { metadata: blob.metadata ?? {}, lastModified: blob.properties.lastModified });
  }
  return state;
}

export async function readConsumerGroup(options: {
  hub: HubView;
  fullyQualifiedNamespace: string;
  consumerGroup: string;
  container: ContainerClient;
  enqueuedTimes: EnqueuedTimes;
  now?: Date;
}): Promise<ConsumerGroupView> {
  const { hub, consumerGroup, container, enqueuedTimes } = options;
  const now = options.now ?? new Date();
  const checkpointPrefix = checkpointBlobPrefix(options.fullyQualifiedNamespace, hub.name, consumerGroup);
  const ownershipPrefix = checkpointPrefix.replace(/checkpoint\/$/, "ownership/");
  const [checkpoints, owners] = await Promise.all([readState(container, checkpointPrefix), readState(container, ownershipPrefix)]);
  const partitions = await Promise.all(
    hub.partitions.map(async (p): Promise<ConsumerPartitionView> => {
      const cp = checkpoints.get(p.id);
      const owner = owners.get(p.id);
      const checkpointSequence = cp?.metadata.sequencenumber !== undefined ? Number(cp.metadata.sequencenumber) : undefined;
      const firstUnprocessed = Math.max(checkpointSequence === undefined ? p.beginningSequenceNumber : checkpointSequence + 1, p.beginningSequenceNumber);
      const lagEvents = p.isEmpty ? 0 : Math.max(0, p.lastEnqueuedSequenceNumber - firstUnprocessed + 1);
      const waitingSince = lagEvents > 0 ? await enqueuedTimes.of(hub.name, p.id, firstUnprocessed) : undefined;
      return {
        id: p.id,
        ownerId: owner ? (owner.metadata.ownerid ?? "") : null,
        ownershipAgeSeconds: owner ? (now.getTime() - owner.lastModified.getTime()) / 1000 : null,
        checkpoint: cp && checkpointSequence !== undefined
          ? { sequenceNumber: checkpointSequence, offset: cp.metadata.offset ?? "", writtenAt: cp.lastModified.toISOString() }
          : null,
        lagEvents,
        lagSeconds: lagEvents === 0 ? 0 : waitingSince ? Math.max(0, (now.getTime() - waitingSince.getTime()) / 1000) : null,
      };
    }),
  );
  return { eventHubName: hub.name, consumerGroup, checkpointContainer: container.containerName, partitions };
}
