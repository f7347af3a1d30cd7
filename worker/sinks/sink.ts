import { plural } from "../../common/plural";
/** Where processing results go. Every record carries (partitionId, sequenceNumber) so readers can de-duplicate. */
export interface ResultRecord {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  /** ISO 8601. */
  enqueuedTimeUtc: string;
  messageId?: string;
  processor: string;
  /** ISO 8601. */
  processedAt: string;
  /** The processor's result as JSON text; written as the record's "result" field. */
  resultJson: string;
}

/** The record as one JSON object, its result spliced in as it is (never parsed and re-serialised). */
export function serializeResultRecord(record: ResultRecord): string {
  const { resultJson, ...fields } = record;
  return `${JSON.stringify(fields).slice(0, -1)},"result":${resultJson}}`;
}

/** Consecutive runs of one source partition's records, in the order given. */
export function runsByPartition(records: ResultRecord[]): ResultRecord[][] {
  const runs: ResultRecord[][] = [];
  for (const record of records) {
    const run = runs.at(-1);
    if (run && run[0]!.partitionId === record.partitionId) run.push(record);
    else runs.push([record]);
  }
  return runs;
}

export interface Sink {
  /**
   * Durably writes the records (in the given order) before resolving. A write in several parts (blocks,
   * batches, requests) that fails after some of them are durable throws a PartialWriteError naming those
   * records, so the retry writes only the others.
   */
  write(records: ResultRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** A write that failed after some of its records were durable; `cause` is the failure itself. */
export class PartialWriteError extends Error {
  override readonly name = "PartialWriteError";
  constructor(
    readonly durable: readonly ResultRecord[],
    cause: unknown,
  ) {
    super(`${plural(durable.length, "record")} already written when the write failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Runs a write made of parts, each reporting its records with `durable` once they are written. A failure is
 * rethrown as it is when nothing was durable yet, else as a PartialWriteError naming what was.
 */
export async function writeInParts(write: (durable: (records: readonly ResultRecord[]) => void) => Promise<void>): Promise<void> {
  const written: ResultRecord[] = [];
  try {
    await write((records) => written.push(...records));
  } catch (error) {
    throw written.length > 0 ? new PartialWriteError(written, error) : error;
  }
}
