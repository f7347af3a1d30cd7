// Replay: sends dead letters back to their hub (or another one) with their original body, properties and
// partition key, plus where they came from, and marks each blob so a second replay does not send again.
//
// Per dead letter: claim (metadata replaystate=in-flight + a replay id, written If-Match the ETag just read, so
// of two concurrent replays exactly one wins), send, then mark replayed (If-Match the claim's ETag). The window
// between send and mark is at-least-once: if the process dies there, the claim stays in flight, and a replay
// after IN_FLIGHT_LEASE_MS sends the event again with the SAME replay id (x-dead-letter-replay-id), which
// consumers can de-duplicate on. Exactly-once is not possible here: Event Hubs has no transactional or
// de-duplicating send, so "sent" and "marked" can never be one atomic step.
import { randomUUID } from "node:crypto";
import type { EventData, EventHubProducerClient } from "@azure/event-hubs";
import type { ContainerClient } from "@azure/storage-blob";
import type { DeadLetterBody, DeadLetterRecord } from "../../common/dead-letter-record";
import type { DeadLetterEntry } from "./entry";
import { MARK } from "./store";

/** A claim older than this is taken to be from a replay that died before marking. */
const IN_FLIGHT_LEASE_MS = 60_000;

/** Bodies stored as they were sent; any other encoding means the worker could not keep the body. */
const REPLAYABLE_ENCODINGS: readonly string[] = ["json", "utf8", "base64"];

export const SOURCE_PROPERTY = "x-dead-letter-source";
export const REPLAY_ID_PROPERTY = "x-dead-letter-replay-id";

export type ReplayResult = "replayed" | "already-replayed" | "in-flight" | "conflict" | "failed";

export interface ReplayOutcome {
  id: string;
  result: ReplayResult;
  replayId?: string;
  target?: string;
  /** What happened, for "in-flight", "conflict" and "failed". */
  detail?: string;
}

export interface ReplayTarget {
  producer: EventHubProducerClient;
  /** True when the target is the dead letter's own hub: without a partition key, the event goes back to its partition. */
  sameHub: boolean;
}

export async function replayDeadLetters(
  container: ContainerClient,
  entries: DeadLetterEntry[],
  target: ReplayTarget,
  now: () => Date = () => new Date(),
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  // One at a time: replays are rare and small, and the order of a partition's dead letters is kept.
  for (const entry of entries) outcomes.push(await replayOne(container, entry, target, now));
  return outcomes;
}

/** Each dead letter goes back to its own hub unless `to` names another. */
export async function replayToHubs(
  container: ContainerClient,
  entries: DeadLetterEntry[],
  to: string | undefined,
  producerOf: (hub: string) => EventHubProducerClient,
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  for (const entry of entries) {
    const hub = to ?? entry.record.eventHubName;
    outcomes.push(...(await replayDeadLetters(container, [entry], { producer: producerOf(hub), sameHub: hub === entry.record.eventHubName })));
  }
  return outcomes;
}

async function replayOne(container: ContainerClient, entry: DeadLetterEntry, target: ReplayTarget, now: () => Date): Promise<ReplayOutcome> {
  const { id, replay } = entry;
  const hub = target.producer.eventHubName;
  if (replay.state === "replayed") return { id, result: "already-replayed", replayId: replay.replayId, target: replay.target };
  if (!REPLAYABLE_ENCODINGS.includes(entry.record.body.encoding)) {
    return { id, result: "failed", detail: `its body was not stored (encoding ${JSON.stringify(entry.record.body.encoding)}): there is nothing to replay` };
  }
  if (replay.state === "in-flight" && now().getTime() - Date.parse(replay.claimedAt) < IN_FLIGHT_LEASE_MS) {
    return { id, result: "in-flight", replayId: replay.replayId, detail: `claimed at ${replay.claimedAt} by another replay; try again after ${IN_FLIGHT_LEASE_MS / 1000} s` };
  }
  // An abandoned claim keeps its replay id, so a resend is recognisable as the same replay.
  const replayId = replay.state === "in-flight" ? replay.replayId : randomUUID();
  const blob = container.getBlobClient(entry.blobName);
  const claimedAt = now().toISOString();
  const marks = { [MARK.replayId]: replayId, [MARK.claimedAt]: claimedAt, [MARK.target]: hub };

  let claimEtag: string;
  try {
    const claimed = await blob.setMetadata({ ...marks, [MARK.state]: "in-flight" }, { conditions: { ifMatch: entry.etag } });
    claimEtag = claimed.etag ?? "";
  } catch (error) {
    if (statusOf(error) === 412 || statusOf(error) === 404) {
      return { id, result: "conflict", detail: "the dead letter changed or was deleted since it was read (another replay or purge); list again" };
    }
    return { id, result: "failed", detail: `could not claim: ${messageOf(error)}` };
  }

  try {
    await target.producer.sendBatch([replayEvent(entry, replayId)], destinationOf(entry.record, target.sameHub));
  } catch (error) {
    // The send may or may not have reached the hub: keep the claim, so a later replay reuses this replay id.
    return { id, result: "failed", replayId, target: hub, detail: `send failed (${messageOf(error)}); it stays in flight and can be replayed again after ${IN_FLIGHT_LEASE_MS / 1000} s` };
  }

  try {
    await blob.setMetadata({ ...marks, [MARK.state]: "replayed", [MARK.replayedAt]: now().toISOString() }, { conditions: { ifMatch: claimEtag } });
  } catch (error) {
    return { id, result: "failed", replayId, target: hub, detail: `sent, but not marked (${messageOf(error)}); a replay after ${IN_FLIGHT_LEASE_MS / 1000} s sends it again with the same replay id` };
  }
  return { id, result: "replayed", replayId, target: hub };
}

/** The original event: body bytes, content type, message id, properties and partition key, plus its origin. */
function replayEvent(entry: DeadLetterEntry, replayId: string): EventData {
  const { record } = entry;
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record.properties)) properties[name] = propertyValue(value);
  properties[SOURCE_PROPERTY] = entry.id;
  properties[REPLAY_ID_PROPERTY] = replayId;
  return {
    body: bodyBytes(record.body),
    properties,
    ...(record.contentType !== undefined ? { contentType: record.contentType } : {}),
    ...(record.messageId !== undefined ? { messageId: record.messageId } : {}),
  };
}

function destinationOf(record: DeadLetterRecord, sameHub: boolean): { partitionKey?: string; partitionId?: string } {
  if (record.partitionKey) return { partitionKey: record.partitionKey };
  // Same hub, no key: the partition the event was in. Another hub may have other partitions: let the service choose.
  return sameHub ? { partitionId: record.partitionId } : {};
}

/** The stored body back to bytes: exact for utf8 and base64; JSON is re-serialised (same value, maybe other spacing). */
function bodyBytes(body: DeadLetterBody): Buffer {
  if (body.encoding === "base64") return Buffer.from(String(body.data), "base64");
  if (body.encoding === "utf8") return Buffer.from(String(body.data), "utf8");
  return Buffer.from(JSON.stringify(body.data), "utf8");
}

/** The record keeps byte properties as {base64}; AMQP application properties take only simple values. */
function propertyValue(value: unknown): unknown {
  if (typeof value === "object" && value !== null) {
    const base64 = (value as { base64?: unknown }).base64;
    if (typeof base64 === "string" && Object.keys(value).length === 1) return Buffer.from(base64, "base64");
    return JSON.stringify(value);
  }
  return value;
}

export const statusOf = (error: unknown) => (error as { statusCode?: unknown } | undefined)?.statusCode;
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
