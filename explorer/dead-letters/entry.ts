// One dead letter as the dead-letter tools hold it: the worker's record, where its blob is, and where it is in its
// replay (the marks the tools keep in the blob's metadata, see store.ts).
import type { DeadLetterRecord } from "../../common/dead-letter-record";

/** Where a dead letter is in its replay: never replayed, claimed by a replay that has not confirmed its send, or sent. */
export type ReplayState =
  | { state: "pending" }
  | { state: "in-flight"; replayId: string; claimedAt: string; target: string }
  | { state: "replayed"; replayId: string; claimedAt: string; replayedAt: string; target: string };

export interface DeadLetterEntry {
  /** `<hub>/<consumer group>/<partition>/<sequenceNumber>`: the blob name without `.json`. */
  id: string;
  blobName: string;
  /** The blob's ETag when read: every write back is conditional on it. */
  etag: string;
  replay: ReplayState;
  record: DeadLetterRecord;
}
