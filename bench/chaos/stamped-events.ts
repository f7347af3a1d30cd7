// The chaos producer's events and its ledger. Every event carries a stamp in its application properties
// (run id, global index, intended partition, SHA-256 of the body bytes); the ledger keeps the same facts
// on this side, so nothing the workers report has to be trusted to judge them. A share of events are
// poison: JSON without any text field, which the text-insights processor rejects for good.
import { createHash } from "node:crypto";
import type { EventData } from "@azure/event-hubs";
import { customerMessage } from "../../tools/dev/sample-messages";
import { seededRandom } from "../workload";

export interface Stamp {
  chaosRunId: string;
  chaosIndex: number;
  chaosPartition: string;
  chaosSha256: string;
}

export interface LedgerEntry {
  index: number;
  partitionId: string;
  sha256: string;
  poison: boolean;
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

export const HOSTILE_DEPTH = 5000;

/** Deterministic for a seed: which events are poison, and every body. */
export class StampedEvents {
  private readonly random: () => number;
  readonly ledger: LedgerEntry[] = [];
  /** Set by the "hostile" fault: the next event nests its text HOSTILE_DEPTH levels deep (poison by design). */
  hostileNext = false;
  /** Set by the "hung" fault: the processor never settles on the next event (dead-lettered by its time limit). */
  hangNext = false;

  constructor(
    readonly runId: string,
    private readonly partitionCount: number,
    private readonly poisonRatio: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** The next event (index = ledger position), recorded in the ledger. */
  next(): { partitionId: string; event: EventData } {
    const index = this.ledger.length;
    const partitionId = String(index % this.partitionCount);
    const hostile = this.hostileNext;
    const hang = this.hangNext && !hostile;
    this.hostileNext = false;
    if (hang) this.hangNext = false;
    const poison = this.random() < this.poisonRatio || hostile || hang;
    const message = customerMessage(this.random);
    const body = hang
      ? { runId: this.runId, index, customerId: message.customerId, text: message.text, hang: true }
      : poison
        ? { runId: this.runId, index, customerId: message.customerId, note: "poison: no text, message or body field" }
        : { runId: this.runId, index, customerId: message.customerId, text: message.text };
    const json = JSON.stringify(body);
    // About 10 KB of brackets: cloning or serialising it would overflow the stack.
    const bytes = Buffer.from(hostile ? `${json.slice(0, -1)},"text":${"[".repeat(HOSTILE_DEPTH)}${"]".repeat(HOSTILE_DEPTH)}}` : json, "utf8");
    const entry: LedgerEntry = { index, partitionId, sha256: sha256(bytes), poison };
    this.ledger.push(entry);
    const stamp: Stamp = { chaosRunId: this.runId, chaosIndex: index, chaosPartition: partitionId, chaosSha256: entry.sha256 };
    return { partitionId, event: { body: bytes, contentType: "application/json", messageId: `${this.runId}-${index}`, properties: { ...stamp } } };
  }
}

/**
 * The body's bytes as the producer sent them, rebuilt from what a reader got: a parsed JSON value is
 * serialized again (JSON.stringify reproduces the producer's own JSON.stringify output exactly for these
 * flat objects of strings and integers), text is taken as is, bytes as bytes.
 */
export function bodyBytesOf(body: unknown): string | Uint8Array {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}
