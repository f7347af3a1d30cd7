// The chaos verdict: what the workers wrote (result lines per worker process, dead-letter blobs) judged
// against the producer's ledger, per partition. Pure: no I/O, so it is tested on its own.
//
// - lost: a good event with no result and no dead letter; a poison event with neither (poisonLost).
// - duplicated: result lines beyond the first for an event (at-least-once delivery; reported, allowed).
// - reordered: within one worker process, a partition's event appearing for the first time after a later
//   event of the same partition was already written by that process. Replays after a restart from a
//   checkpoint repeat events the process wrote before, so they are duplicates, not reorderings.
// - corrupted: a body whose SHA-256 (as the processor or the dead-letter store received it), or a stamp,
//   differs from the ledger.
// - misrouted: a result from another partition than the one the event was sent to.
// - mis-dead-lettered: a good event dead-lettered, or a poison event with a result.
import type { LedgerEntry } from "./stamped-events";
import { bodyBytesOf, sha256 } from "./stamped-events";

export interface ResultObservation {
  /** The worker process (one lifetime: a restart is a new one) that wrote the line. */
  instance: string;
  partitionId: string;
  sequenceNumber: number;
  messageId?: string;
  receivedSha256?: string;
  stamp?: Record<string, unknown>;
  /** When the worker processed it (ms since the epoch). */
  processedAtMs?: number;
}

export interface DeadLetterObservation {
  partitionId: string;
  sequenceNumber: number;
  messageId?: string;
  properties: Record<string, unknown>;
  body: { encoding: string; data: unknown };
}

export interface PartitionVerdict {
  partitionId: string;
  sent: number;
  poisonSent: number;
  processed: number;
  duplicated: number;
  lost: number;
  poisonLost: number;
  reordered: number;
  corrupted: number;
  misrouted: number;
  deadLettered: number;
  misDeadLettered: number;
}

export interface ChaosVerdict {
  ok: boolean;
  partitions: PartitionVerdict[];
  totals: Omit<PartitionVerdict, "partitionId">;
  /** Results or dead letters that match no ledger entry of this run. */
  unknown: number;
  /** Events stored more than once by the producer's own retries (different sequence numbers, same index). */
  duplicateSends: number;
  /** A few concrete failures, for the report. */
  examples: string[];
}

const FAILURE_FIELDS = ["lost", "poisonLost", "reordered", "corrupted", "misrouted", "misDeadLettered"] as const;
const MAX_EXAMPLES = 20;

export function indexFromMessageId(runId: string, messageId: string | undefined): number | undefined {
  if (!messageId?.startsWith(`${runId}-`)) return undefined;
  const index = Number(messageId.slice(runId.length + 1));
  return Number.isInteger(index) && index >= 0 ? index : undefined;
}

function emptyPartition(partitionId: string): PartitionVerdict {
  return { partitionId, sent: 0, poisonSent: 0, processed: 0, duplicated: 0, lost: 0, poisonLost: 0, reordered: 0, corrupted: 0, misrouted: 0, deadLettered: 0, misDeadLettered: 0 };
}

function stampMatches(stamp: Record<string, unknown> | undefined, runId: string, entry: LedgerEntry): boolean {
  return stamp !== undefined && stamp.chaosRunId === runId && stamp.chaosIndex === entry.index && stamp.chaosPartition === entry.partitionId && stamp.chaosSha256 === entry.sha256;
}

function deadLetterBytes(body: { encoding: string; data: unknown }): string | Uint8Array {
  if (body.encoding === "base64" && typeof body.data === "string") return Buffer.from(body.data, "base64");
  if (body.encoding === "utf8" && typeof body.data === "string") return body.data;
  return bodyBytesOf(body.data);
}

export function judge(runId: string, ledger: readonly LedgerEntry[], results: readonly ResultObservation[], deadLetters: readonly DeadLetterObservation[]): ChaosVerdict {
  const partitions = new Map<string, PartitionVerdict>();
  const partition = (id: string) => {
    let verdict = partitions.get(id);
    if (!verdict) partitions.set(id, (verdict = emptyPartition(id)));
    return verdict;
  };
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };
  let unknown = 0;
  const sequencesOf = new Map<number, Set<string>>();
  const position = (index: number, partitionId: string, sequenceNumber: number) => {
    const set = sequencesOf.get(index) ?? new Set<string>();
    set.add(`${partitionId}:${sequenceNumber}`);
    sequencesOf.set(index, set);
  };

  for (const entry of ledger) {
    const verdict = partition(entry.partitionId);
    verdict.sent++;
    if (entry.poison) verdict.poisonSent++;
  }

  const resultCount = new Map<number, number>();
  const emitted = new Map<string, { max: number; seen: Set<number> }>();
  for (const result of results) {
    const index = indexFromMessageId(runId, result.messageId);
    const entry = index === undefined ? undefined : ledger[index];
    if (!entry) {
      unknown++;
      note(`result ${result.partitionId}:${result.sequenceNumber} from ${result.instance} matches no event of run ${runId} (messageId ${result.messageId})`);
      continue;
    }
    const verdict = partition(entry.partitionId);
    position(entry.index, result.partitionId, result.sequenceNumber);
    resultCount.set(entry.index, (resultCount.get(entry.index) ?? 0) + 1);
    if (result.partitionId !== entry.partitionId) {
      verdict.misrouted++;
      note(`event ${entry.index} sent to partition ${entry.partitionId} has a result from partition ${result.partitionId}`);
    }
    if (result.receivedSha256 !== entry.sha256 || !stampMatches(result.stamp, runId, entry)) {
      verdict.corrupted++;
      note(`event ${entry.index}: body or stamp differs from what was sent (received sha256 ${result.receivedSha256})`);
    }
    const key = `${result.instance}/${result.partitionId}`;
    const order = emitted.get(key) ?? { max: -1, seen: new Set<number>() };
    if (result.sequenceNumber < order.max && !order.seen.has(result.sequenceNumber)) {
      verdict.reordered++;
      note(`${result.instance} wrote ${result.partitionId}:${result.sequenceNumber} for the first time after ${result.partitionId}:${order.max}`);
    }
    order.max = Math.max(order.max, result.sequenceNumber);
    order.seen.add(result.sequenceNumber);
    emitted.set(key, order);
  }

  const deadLettered = new Set<number>();
  for (const letter of deadLetters) {
    const index = indexFromMessageId(runId, letter.messageId);
    const entry = index === undefined ? undefined : ledger[index];
    if (!entry) {
      unknown++;
      note(`dead letter ${letter.partitionId}:${letter.sequenceNumber} matches no event of run ${runId}`);
      continue;
    }
    const verdict = partition(entry.partitionId);
    position(entry.index, letter.partitionId, letter.sequenceNumber);
    if (!deadLettered.has(entry.index)) verdict.deadLettered++;
    deadLettered.add(entry.index);
    if (sha256(deadLetterBytes(letter.body)) !== entry.sha256 || !stampMatches(letter.properties, runId, entry)) {
      verdict.corrupted++;
      note(`dead letter of event ${entry.index}: body or stamp differs from what was sent`);
    }
    if (!entry.poison) {
      verdict.misDeadLettered++;
      note(`good event ${entry.index} (${letter.partitionId}:${letter.sequenceNumber}) was dead-lettered`);
    }
  }

  for (const entry of ledger) {
    const verdict = partition(entry.partitionId);
    const count = resultCount.get(entry.index) ?? 0;
    if (count > 0) {
      verdict.processed++;
      verdict.duplicated += count - 1;
    }
    if (entry.poison && count > 0) {
      verdict.misDeadLettered++;
      note(`poison event ${entry.index} has a result instead of a dead letter`);
    }
    if (count === 0 && !deadLettered.has(entry.index)) {
      if (entry.poison) verdict.poisonLost++;
      else verdict.lost++;
      note(`${entry.poison ? "poison" : "good"} event ${entry.index} (partition ${entry.partitionId}) has neither a result nor a dead letter`);
    }
  }

  const sorted = [...partitions.values()].sort((a, b) => Number(a.partitionId) - Number(b.partitionId) || a.partitionId.localeCompare(b.partitionId));
  const totals = emptyPartition("all");
  for (const verdict of sorted) {
    for (const field of Object.keys(totals) as Array<keyof PartitionVerdict>) {
      if (field !== "partitionId") totals[field] += verdict[field];
    }
  }
  const { partitionId: _all, ...totalCounts } = totals;
  const duplicateSends = [...sequencesOf.values()].filter((positions) => positions.size > 1).length;
  const ok = unknown === 0 && FAILURE_FIELDS.every((field) => totals[field] === 0);
  return { ok, partitions: sorted, totals: totalCounts, unknown, duplicateSends, examples };
}

/** Duplicates written before any fault was injected. */
export const BEFORE_ANY_FAULT = "before any fault";

/**
 * Each duplicate (a result beyond an event's first) counted against the fault that caused it: the kill -9 or
 * SIGTERM of the process that wrote the event's first result, when one ended that process before the duplicate
 * was written (its successor replayed what it had done); otherwise the fault injected last before the duplicate.
 * Which kind of fault costs repeated work, and so, with a remote model, repeated calls.
 */
export function duplicatesByFault(
  runId: string,
  results: readonly ResultObservation[],
  faults: ReadonlyArray<{ kind: string; atEpochMs: number; instance?: string }>,
): Record<string, number> {
  const byEvent = new Map<number, Array<{ at: number; instance: string }>>();
  for (const result of results) {
    const index = indexFromMessageId(runId, result.messageId);
    if (index === undefined || result.processedAtMs === undefined) continue;
    const copies = byEvent.get(index) ?? [];
    copies.push({ at: result.processedAtMs, instance: result.instance });
    byEvent.set(index, copies);
  }
  const ordered = [...faults].sort((a, b) => a.atEpochMs - b.atEpochMs);
  const counts: Record<string, number> = {};
  for (const copies of byEvent.values()) {
    const [first, ...repeats] = copies.sort((a, b) => a.at - b.at);
    for (const { at } of repeats) {
      const before = ordered.filter((f) => f.atEpochMs <= at);
      const endOfFirstWriter = before.find((f) => f.instance !== undefined && f.instance === first!.instance);
      const cause = (endOfFirstWriter ?? before.at(-1))?.kind ?? BEFORE_ANY_FAULT;
      counts[cause] = (counts[cause] ?? 0) + 1;
    }
  }
  return counts;
}
