// Purge: deletes the selected dead-letter blobs, each If-Match the ETag it was listed with, so a dead letter
// that a replay claimed or marked in the meantime is not deleted behind the operator's back.
import type { ContainerClient } from "@azure/storage-blob";
import { messageOf, statusOf } from "./replay";
import type { DeadLetterEntry } from "./entry";

export interface PurgeOutcome {
  id: string;
  result: "deleted" | "conflict" | "failed";
  detail?: string;
}

export async function purgeDeadLetters(container: ContainerClient, entries: DeadLetterEntry[]): Promise<PurgeOutcome[]> {
  const outcomes: PurgeOutcome[] = [];
  for (const entry of entries) {
    try {
      await container.getBlobClient(entry.blobName).delete({ conditions: { ifMatch: entry.etag } });
      outcomes.push({ id: entry.id, result: "deleted" });
    } catch (error) {
      const changed = statusOf(error) === 412 || statusOf(error) === 404;
      outcomes.push({
        id: entry.id,
        result: changed ? "conflict" : "failed",
        detail: changed ? "changed or deleted since it was listed; not deleted" : messageOf(error),
      });
    }
  }
  return outcomes;
}
