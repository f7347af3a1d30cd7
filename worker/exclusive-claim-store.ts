// The checkpoint store with first claims made exclusive. BlobCheckpointStore claims a partition whose ownership
// blob does not exist yet (no etag) unconditionally, so two workers starting together can both "win" it, both
// start reading, and disconnect each other's receivers (a known gap of the blob checkpoint stores: Azure SDK for
// Go #20717, for Python #38812). Here a first claim creates the blob only if it does not exist (If-None-Match: *):
// one worker wins, the other loses the race as with any claim. Everything else goes to the store as it is.
import type { Checkpoint, CheckpointStore, OperationOptions, PartitionOwnership } from "@azure/event-hubs";
import type { ContainerClient } from "@azure/storage-blob";

/** The ownership blob's name, as BlobCheckpointStore names it. */
export function ownershipBlobName(ownership: Pick<PartitionOwnership, "fullyQualifiedNamespace" | "eventHubName" | "consumerGroup" | "partitionId">): string {
  return `${ownership.fullyQualifiedNamespace}/${ownership.eventHubName}/${ownership.consumerGroup}/ownership/${ownership.partitionId}`.toLowerCase();
}

export class ExclusiveClaimStore implements CheckpointStore {
  constructor(
    private readonly inner: CheckpointStore,
    private readonly container: ContainerClient,
  ) {}

  async claimOwnership(requests: PartitionOwnership[], options: OperationOptions = {}): Promise<PartitionOwnership[]> {
    const claimed: PartitionOwnership[] = [];
    for (const request of requests) {
      if (request.etag !== undefined) {
        claimed.push(...(await this.inner.claimOwnership([request], options)));
        continue;
      }
      try {
        const response = await this.container.getBlockBlobClient(ownershipBlobName(request)).upload("", 0, {
          metadata: { ownerid: request.ownerId },
          conditions: { ifNoneMatch: "*" },
          ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
        });
        claimed.push({ ...request, etag: response.etag, lastModifiedTimeInMs: response.lastModified?.getTime() ?? Date.now() });
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 409 || status === 412) continue; // another worker created it first
        throw error;
      }
    }
    return claimed;
  }

  listOwnership(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string, options?: OperationOptions): Promise<PartitionOwnership[]> {
    return this.inner.listOwnership(fullyQualifiedNamespace, eventHubName, consumerGroup, options);
  }

  updateCheckpoint(checkpoint: Checkpoint, options?: OperationOptions): Promise<void> {
    return this.inner.updateCheckpoint(checkpoint, options);
  }

  listCheckpoints(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string, options?: OperationOptions): Promise<Checkpoint[]> {
    return this.inner.listCheckpoints(fullyQualifiedNamespace, eventHubName, consumerGroup, options);
  }
}
