// The fleet records of one consumer group as the explorer reads them: one listing of the records' prefix in
// the checkpoint container (metadata included), parsed by the worker's own reader. Ages are measured on the
// storage service's clock, as the workers measure them: each record's Last-Modified against the listing's
// Date header, so the clocks of the replicas' machines and of this one never meet.
import type { ContainerClient } from "@azure/storage-blob";
import { fromMetadata, type FleetRecord } from "../worker/index";

export interface ListedRecord {
  record: FleetRecord;
  /** Seconds since the replica last wrote it, by the storage service's clock. */
  ageSeconds: number;
}

export interface FleetListing {
  records: ListedRecord[];
  /** Blobs under the prefix that are not records this version reads (another format, a foreign blob). */
  unreadable: number;
}

export async function readFleetRecords(container: ContainerClient, prefix: string, signal?: AbortSignal): Promise<FleetListing> {
  const listed: Array<{ record: FleetRecord; lastModified: number }> = [];
  let unreadable = 0;
  let serviceNow: number | undefined;
  for await (const page of container.listBlobsFlat({ prefix, includeMetadata: true, ...(signal ? { abortSignal: signal } : {}) }).byPage()) {
    serviceNow ??= page.date?.getTime();
    for (const blob of page.segment.blobItems) {
      const record = fromMetadata(blob.metadata);
      if (record) listed.push({ record, lastModified: blob.properties.lastModified.getTime() });
      else unreadable++;
    }
  }
  // Azure and Azurite send Date on every answer; without it, this machine's clock is the best there is.
  const now = serviceNow ?? Date.now();
  return { records: listed.map((l) => ({ record: l.record, ageSeconds: Math.max(0, (now - l.lastModified) / 1000) })), unreadable };
}
