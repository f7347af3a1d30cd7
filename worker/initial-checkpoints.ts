// Initial checkpoints: before consuming, give every partition that has no checkpoint one at the position the
// worker would start from anyway. Nothing changes for the worker; the KEDA `azure-eventhub` scaler
// (checkpointStrategy: blobMetadata) then reads a real lag for every partition instead of falling back to
// "everything retained" for partitions without a checkpoint blob (kedacore/keda #5249), which over-scales.
import type { PartitionProperties } from "@azure/event-hubs";
import type { ContainerClient } from "@azure/storage-blob";

/** What the function needs of an EventHubConsumerClient (the one that later subscribes, so names match). */
export interface PartitionInfoSource {
  readonly fullyQualifiedNamespace: string;
  readonly eventHubName: string;
  getPartitionIds(options?: { abortSignal?: AbortSignal }): Promise<string[]>;
  getPartitionProperties(partitionId: string, options?: { abortSignal?: AbortSignal }): Promise<PartitionProperties>;
}

export interface InitialCheckpointOptions {
  client: PartitionInfoSource;
  consumerGroup: string;
  /** The BlobCheckpointStore's container. */
  checkpointContainer: ContainerClient;
  /** The worker's START_POSITION: where a partition without a checkpoint would start. */
  startPosition: "earliest" | "latest";
  abortSignal?: AbortSignal;
}

export interface CheckpointPosition {
  /** The sequence number of the last event counted as processed (KEDA: lag = last enqueued - this). */
  sequenceNumber: number;
  /** Where the SDK resumes: it reads from `{ offset }`, exclusive. */
  offset: string;
}

export interface InitialCheckpointResult {
  written: Array<CheckpointPosition & { partitionId: string }>;
  /** Partitions that already had a checkpoint (or got one from another worker meanwhile): left untouched. */
  untouched: string[];
}

/** The SDK's earliestEventPosition is `{ offset: "-1" }`: a checkpoint with this offset resumes exactly there. */
export const EARLIEST_OFFSET = "-1";

/**
 * The checkpoint that makes resuming identical to starting without one.
 * - earliest: offset "-1", which the SDK turns into the same `{ offset: "-1" }` position as earliestEventPosition,
 *   so the first retained event is read and nothing is skipped. The sequence number is the one before the first
 *   retained event (beginningSequenceNumber - 1), so KEDA's lag, lastEnqueued - sequenceNumber, is exactly the
 *   number of retained events the worker will read. An empty partition gets its last assigned sequence number
 *   (-1 on a new hub): lag 0 now, and each new event adds 1.
 * - latest: the last enqueued event itself (its offset and sequence number): lag 0, and the worker reads what
 *   arrives after it, as latestEventPosition would, but fixed at this moment rather than at each restart.
 */
export function initialCheckpointFor(properties: PartitionProperties, startPosition: "earliest" | "latest"): CheckpointPosition {
  if (properties.isEmpty) return { sequenceNumber: properties.lastEnqueuedSequenceNumber, offset: EARLIEST_OFFSET };
  if (startPosition === "latest") {
    return { sequenceNumber: properties.lastEnqueuedSequenceNumber, offset: properties.lastEnqueuedOffset };
  }
  return { sequenceNumber: properties.beginningSequenceNumber - 1, offset: EARLIEST_OFFSET };
}

/** BlobCheckpointStore's layout: `<fqns>/<hub>/<consumer group>/checkpoint/<partition>`, lower case. */
export function checkpointBlobPrefix(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): string {
  return `${fullyQualifiedNamespace}/${eventHubName}/${consumerGroup}/checkpoint/`.toLowerCase();
}

/** 409 BlobAlreadyExists / 412: another worker (or a real checkpoint) got there first. */
function isAlreadyThere(error: unknown): boolean {
  // Checked by shape: the SDK's RestError class may come from more than one copy of @azure/core-rest-pipeline.
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return status === 409 || status === 412;
}

/**
 * Writes a checkpoint for every partition that has none. Each write is a create-only upload
 * (If-None-Match: *), so it never overwrites a checkpoint, even one another replica writes at the same time:
 * an unconditional write could move a partition back and replay its events.
 */
export async function writeInitialCheckpoints(options: InitialCheckpointOptions): Promise<InitialCheckpointResult> {
  const { client, consumerGroup, checkpointContainer, startPosition, abortSignal } = options;
  const prefix = checkpointBlobPrefix(client.fullyQualifiedNamespace, client.eventHubName, consumerGroup);

  const checkpointed = new Set<string>();
  for await (const blob of checkpointContainer.listBlobsFlat({ prefix, abortSignal })) {
    checkpointed.add(blob.name.slice(prefix.length));
  }
  const partitionIds = await client.getPartitionIds({ abortSignal });
  const result: InitialCheckpointResult = { written: [], untouched: partitionIds.filter((id) => checkpointed.has(id)) };

  await Promise.all(
    partitionIds
      .filter((id) => !checkpointed.has(id))
      .map(async (partitionId) => {
        const position = initialCheckpointFor(await client.getPartitionProperties(partitionId, { abortSignal }), startPosition);
        try {
          await checkpointContainer.getBlockBlobClient(`${prefix}${partitionId}`).upload("", 0, {
            metadata: { sequencenumber: String(position.sequenceNumber), offset: position.offset },
            conditions: { ifNoneMatch: "*" },
            abortSignal,
          });
          result.written.push({ partitionId, ...position });
        } catch (error) {
          if (!isAlreadyThere(error)) throw error;
          result.untouched.push(partitionId);
        }
      }),
  );
  const byPartition = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
  result.written.sort((a, b) => byPartition(a.partitionId, b.partitionId));
  result.untouched.sort(byPartition);
  return result;
}
