// The chaos workers' results, read from where they write them: JSON Lines in append blobs (SINK=blob). The
// reader keeps how far it has read each blob and reads only what was appended since; the "blobdelete" fault
// uses it to read a blob to its end under a lease (so no append can slip in) before deleting it.
import type { ContainerClient } from "@azure/storage-blob";
import type { ResultObservation } from "./verdict";

export const CHAOS_RESULTS_CONTAINER = "chaos-results";

interface ResultLine {
  partitionId: string;
  sequenceNumber: number;
  messageId?: string;
  processedAt?: string;
  result?: { receivedSha256?: string; stamp?: Record<string, unknown>; workerPid?: number };
}

export class BlobResults {
  /** Per blob, its lines in the order they were appended (a deleted blob's lines stay, its new ones follow). */
  private readonly byBlob = new Map<string, ResultObservation[]>();
  /** Lines that were not whole JSON result records (never expected: appends are whole lines). */
  truncatedLines = 0;
  private readonly readBytes = new Map<string, number>();

  constructor(
    readonly container: ContainerClient,
    /** The fleet's name for the worker process with this pid. */
    private readonly instanceOf: (pid: number | undefined) => string,
  ) {}

  /**
   * Every result read so far, blob by blob in name order, each blob in append order. A partition's blobs are
   * named by the hour its events were enqueued in, so this is the order its owners wrote them, also when a run
   * crosses an hour: the order of reading is not (one poll can read the next hour's blob before the rest of the
   * previous one is seen).
   */
  get results(): ResultObservation[] {
    return [...this.byBlob.keys()].sort().flatMap((name) => this.byBlob.get(name) ?? []);
  }

  /** Reads what was appended to every results blob since the last call. */
  async poll(): Promise<void> {
    for await (const blob of this.container.listBlobsFlat()) await this.readNew(blob.name);
  }

  /** Reads the rest of one blob (with the lease id while the fault holds its lease). */
  async readNew(name: string, leaseId?: string): Promise<void> {
    const offset = this.readBytes.get(name) ?? 0;
    const client = this.container.getBlobClient(name);
    const size = (await client.getProperties(leaseId ? { conditions: { leaseId } } : {})).contentLength ?? 0;
    if (size <= offset) return;
    const text = (await client.downloadToBuffer(offset, size - offset, leaseId ? { conditions: { leaseId } } : {})).toString("utf8");
    this.readBytes.set(name, size);
    for (const line of text.split("\n")) if (line.trim()) this.record(name, line);
  }

  /** The blob was deleted: when it is created again, it is read from its start. */
  forget(name: string): void {
    this.readBytes.delete(name);
  }

  private record(blob: string, line: string): void {
    let parsed: ResultLine;
    try {
      parsed = JSON.parse(line) as ResultLine;
    } catch {
      this.truncatedLines++;
      return;
    }
    const lines = this.byBlob.get(blob) ?? [];
    this.byBlob.set(blob, lines);
    lines.push({
      instance: this.instanceOf(parsed.result?.workerPid),
      partitionId: parsed.partitionId,
      sequenceNumber: parsed.sequenceNumber,
      ...(parsed.messageId !== undefined ? { messageId: parsed.messageId } : {}),
      ...(parsed.processedAt !== undefined ? { processedAtMs: Date.parse(parsed.processedAt) } : {}),
      ...(parsed.result?.receivedSha256 !== undefined ? { receivedSha256: parsed.result.receivedSha256 } : {}),
      ...(parsed.result?.stamp !== undefined ? { stamp: parsed.result.stamp } : {}),
    });
  }
}
