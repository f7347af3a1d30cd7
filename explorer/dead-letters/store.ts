// Reads the worker's dead-letter container (`<hub>/<consumer group>/<partition>/<sequenceNumber>.json`, one
// DeadLetterRecord per blob) and the replay marks this tool keeps in each blob's metadata.
import type { BlobDownloadResponseParsed, ContainerClient } from "@azure/storage-blob";
import { deadLetterBlobName, type DeadLetterRecord } from "../../common/dead-letter-record";
import type { DeadLetterEntry, ReplayState } from "./entry";
import { matches, type DeadLetterFilter } from "./filter";

export interface DeadLetterId {
  eventHubName: string;
  consumerGroup: string;
  partitionId: string;
  sequenceNumber: number;
}

const ID_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._-]{0,49})\/(\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})\/(\d+)\/(\d+)$/;
export const ID_FORMAT = "<hub>/<consumer group>/<partition>/<sequence number>, e.g. telemetry/ai-workers/0/42";

export function parseDeadLetterId(raw: string): DeadLetterId | undefined {
  const match = ID_PATTERN.exec(raw.trim().replace(/\.json$/, ""));
  if (!match) return undefined;
  const [, eventHubName = "", consumerGroup = "", partitionId = "", sequence = ""] = match;
  return { eventHubName, consumerGroup, partitionId, sequenceNumber: Number(sequence) };
}

/** Blob metadata keys (lower case: Azure stores them case-insensitively). */
export const MARK = {
  state: "replaystate",
  replayId: "replayid",
  claimedAt: "replayclaimedat",
  replayedAt: "replayedat",
  target: "replaytarget",
} as const;

function replayStateOf(metadata: Record<string, string> | undefined): ReplayState {
  const m = metadata ?? {};
  const replayId = m[MARK.replayId];
  if (!replayId) return { state: "pending" };
  const base = { replayId, claimedAt: m[MARK.claimedAt] ?? "", target: m[MARK.target] ?? "" };
  const replayedAt = m[MARK.replayedAt];
  return m[MARK.state] === "replayed" && replayedAt ? { state: "replayed", ...base, replayedAt } : { state: "in-flight", ...base };
}

const READ_CONCURRENCY = 8;

export class DeadLetterStore {
  constructor(readonly container: ContainerClient) {}

  /** The dead letter, or undefined when there is no such blob. */
  async get(id: DeadLetterId): Promise<DeadLetterEntry | undefined> {
    const blobName = deadLetterBlobName(id, id.partitionId, id.sequenceNumber);
    let response: BlobDownloadResponseParsed;
    try {
      response = await this.container.getBlobClient(blobName).download();
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw error;
    }
    const body = await streamToText(response.readableStreamBody);
    let record: DeadLetterRecord;
    try {
      record = JSON.parse(body) as DeadLetterRecord;
    } catch {
      throw new Error(`dead letter ${blobName} is not valid JSON; inspect it with a storage browser`);
    }
    return { id: blobName.replace(/\.json$/, ""), blobName, etag: response.etag ?? "", replay: replayStateOf(response.metadata), record };
  }

  /** Dead letters of one hub and consumer group that match, in partition and sequence order, at most `filter.limit`. */
  async list(scope: { eventHubName: string; consumerGroup: string }, filter: DeadLetterFilter): Promise<DeadLetterEntry[]> {
    const ids: DeadLetterId[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix: `${scope.eventHubName}/${scope.consumerGroup}/`, includeMetadata: true })) {
      const id = parseDeadLetterId(blob.name);
      if (!id || (filter.partitions && !filter.partitions.includes(id.partitionId))) continue;
      // Cheap pre-filter on the listing's metadata; the record is checked again after download.
      if (filter.state !== "all" && replayStateOf(blob.metadata).state !== filter.state) continue;
      ids.push(id);
    }
    ids.sort((a, b) => Number(a.partitionId) - Number(b.partitionId) || a.sequenceNumber - b.sequenceNumber);
    const found: DeadLetterEntry[] = [];
    for (let i = 0; i < ids.length && found.length < filter.limit; i += READ_CONCURRENCY) {
      const entries = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => this.get(id)));
      for (const entry of entries) if (entry && matches(filter, entry) && found.length < filter.limit) found.push(entry);
    }
    return found;
  }
}

async function streamToText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
