import { isRestError, type AppendBlobClient, type ContainerClient } from "@azure/storage-blob";
import { defineSink } from "../plugins";
import { containerName, text } from "../settings/values";
import { serializeResultRecord, writeInParts, type ResultRecord, type Sink } from "./sink";

/** Append blocks are limited to 4 MiB by older service versions and Azurite. */
const MAX_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * JSON Lines in append blobs: `<prefix>/<partition>/<yyyy-mm-dd-hh>.jsonl`, one blob per source partition
 * per hour of the events' enqueued time. Appends keep one writer per partition (the partition's owner)
 * cheap and ordered; hourly blobs keep each file small enough to read and well below an append blob's
 * 50,000-block limit (one block per batch); using the enqueued hour rather than the processing time puts a
 * replayed event (at-least-once delivery) in the same file as its first copy, where readers de-duplicate
 * on (partitionId, sequenceNumber).
 */
export class BlobSink implements Sink {
  private readonly created = new Set<string>();

  constructor(
    private readonly container: ContainerClient,
    private readonly prefix: string,
  ) {}

  async write(records: ResultRecord[]): Promise<void> {
    await writeInParts(async (durable) => {
      for (const [blobName, group] of groupByBlob(this.prefix, records)) {
        const blob = this.container.getAppendBlobClient(blobName);
        for (const block of blocksOf(group)) {
          await this.append(blob, blobName, block.bytes);
          durable(block.records);
        }
      }
    });
  }

  /**
   * A blob (or its container) deleted since we created it, by a person or lost by storage, is created again:
   * otherwise every later append fails and the partition never moves. The block is appended after that; a
   * block whose append landed but whose answer was lost is appended again by the retry (at least once),
   * never lost.
   */
  private async append(blob: AppendBlobClient, blobName: string, block: Buffer): Promise<void> {
    if (!this.created.has(blobName)) await this.create(blob, blobName);
    try {
      await blob.appendBlock(block, block.byteLength);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.created.delete(blobName);
      await this.create(blob, blobName);
      await blob.appendBlock(block, block.byteLength);
    }
  }

  private async create(blob: AppendBlobClient, blobName: string): Promise<void> {
    const create = () => blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: "application/x-ndjson" } });
    try {
      await create();
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.container.createIfNotExists(); // ContainerNotFound
      await create();
    }
    this.created.add(blobName);
  }

  async close(): Promise<void> {
    // ContainerClient is owned by the caller.
  }
}

function isNotFound(error: unknown): boolean {
  return isRestError(error) && error.statusCode === 404;
}

export function resultBlobName(prefix: string, record: ResultRecord): string {
  const hour = record.enqueuedTimeUtc.slice(0, 13).replace("T", "-"); // 2024-03-12T09:... -> 2024-03-12-09
  const folder = prefix.replace(/\/+$/, "");
  return `${folder ? `${folder}/` : ""}${record.partitionId}/${hour}.jsonl`;
}

function groupByBlob(prefix: string, records: ResultRecord[]): Map<string, ResultRecord[]> {
  const groups = new Map<string, ResultRecord[]>();
  for (const record of records) {
    const name = resultBlobName(prefix, record);
    const group = groups.get(name) ?? [];
    group.push(record);
    groups.set(name, group);
  }
  return groups;
}

/**
 * The records' lines packed into blocks of at most MAX_BLOCK_BYTES (a single larger line gets a block of its
 * own), each with the records it holds.
 */
function blocksOf(records: ResultRecord[]): Array<{ bytes: Buffer; records: ResultRecord[] }> {
  const blocks: Array<{ bytes: Buffer; records: ResultRecord[] }> = [];
  let pending: Buffer[] = [];
  let pendingRecords: ResultRecord[] = [];
  let pendingBytes = 0;
  for (const record of records) {
    const bytes = Buffer.from(serializeResultRecord(record) + "\n", "utf8");
    if (pendingBytes + bytes.byteLength > MAX_BLOCK_BYTES && pending.length > 0) {
      blocks.push({ bytes: Buffer.concat(pending), records: pendingRecords });
      pending = [];
      pendingRecords = [];
      pendingBytes = 0;
    }
    pending.push(bytes);
    pendingRecords.push(record);
    pendingBytes += bytes.byteLength;
  }
  if (pending.length > 0) blocks.push({ bytes: Buffer.concat(pending), records: pendingRecords });
  return blocks;
}

const GROUP = "Result sink (SINK=blob):";

/** SINK=blob: JSON Lines in append blobs of the worker's storage account. */
export const blobSink = defineSink({
  name: "blob",
  settings: {
    SINK_BLOB_CONTAINER: { group: GROUP, value: containerName, default: "results", help: "container for JSON Lines results (in the storage account above)" },
    SINK_BLOB_PREFIX: { group: GROUP, value: text, defaultShown: "<hub>/<consumer group>/", help: "blob name prefix" },
  },
  options: (values, { eventHubName, consumerGroup }) => ({
    container: values.SINK_BLOB_CONTAINER,
    prefix: values.SINK_BLOB_PREFIX ?? `${eventHubName}/${consumerGroup}/`.toLowerCase(),
  }),
  async create(options, { blobService }) {
    const container = blobService.getContainerClient(options.container);
    await container.createIfNotExists();
    return new BlobSink(container, options.prefix);
  },
});
