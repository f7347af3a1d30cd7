// Idempotent producers (KIP-98), which librdkafka and the Java client enable by default: InitProducerId
// hands out ids, and every batch's sequence numbers are checked per (producer, partition) as a broker
// does: the next batch in order is appended, a retry of one of the last five batches is answered with
// its original offset instead of being stored twice, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER and an old
// epoch INVALID_PRODUCER_EPOCH. The state lives in memory (after a restart a producer's first batch
// starts its sequence afresh); the number of producers remembered is bounded.
import { ERROR } from "./errors";

const MAX_SEQUENCE = 2_147_483_647;
/** Kafka keeps the last five batches per producer and partition to recognise retries. */
const RECENT_BATCHES = 5;
const MAX_PRODUCERS = 10_000;

interface BatchSpan {
  first: number;
  last: number;
  baseOffset: number;
}

interface PartitionSequence {
  epoch: number;
  lastSequence: number;
  recent: BatchSpan[];
}

export type SequenceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; baseOffset: number }
  | { kind: "error"; code: number; message: string };

const nextSequence = (sequence: number, by = 1): number => (sequence + by) % (MAX_SEQUENCE + 1);

export class ProducerRegistry {
  // Ids from the clock, so a restarted emulator does not hand out an id a client still uses.
  private nextId: number;
  /** producer id -> current epoch; insertion order = least recently used first. */
  private readonly epochs = new Map<number, number>();
  private readonly sequences = new Map<string, PartitionSequence>();

  constructor(now: () => number = Date.now) {
    this.nextId = now() * 1000;
  }

  /** A new producer id (epoch 0), or the next epoch of an id the producer already holds (InitProducerId v3+). */
  initProducerId(existingId = -1, existingEpoch = -1): { producerId: number; producerEpoch: number } {
    const known = this.epochs.get(existingId);
    if (existingId >= 0 && known !== undefined && known === existingEpoch && existingEpoch < 32_767) {
      this.touch(existingId, existingEpoch + 1);
      return { producerId: existingId, producerEpoch: existingEpoch + 1 };
    }
    const producerId = this.nextId++;
    this.touch(producerId, 0);
    return { producerId, producerEpoch: 0 };
  }

  /** Whether a batch of `count` records from the producer may be appended to the partition. */
  check(producerId: number, epoch: number, partitionKey: string, baseSequence: number, count: number): SequenceCheck {
    const known = this.epochs.get(producerId);
    if (known !== undefined && epoch < known) {
      return { kind: "error", code: ERROR.invalidProducerEpoch, message: `Producer epoch ${epoch} is older than the current epoch ${known} of producer ${producerId}.` };
    }
    const state = this.sequences.get(this.key(producerId, partitionKey));
    if (!state || epoch > state.epoch) return { kind: "append" }; // a new producer or epoch starts its sequence here
    const last = nextSequence(baseSequence, count - 1);
    const retry = state.recent.find((span) => span.first === baseSequence && span.last === last);
    if (retry) return { kind: "duplicate", baseOffset: retry.baseOffset };
    const expected = nextSequence(state.lastSequence);
    if (baseSequence !== expected) {
      return { kind: "error", code: ERROR.outOfOrderSequenceNumber, message: `Out of order sequence number for producer ${producerId}: expected ${expected}, got ${baseSequence}.` };
    }
    return { kind: "append" };
  }

  /** Records an appended batch (after check() said append). */
  appended(producerId: number, epoch: number, partitionKey: string, baseSequence: number, count: number, baseOffset: number): void {
    this.touch(producerId, Math.max(epoch, this.epochs.get(producerId) ?? epoch));
    const key = this.key(producerId, partitionKey);
    const previous = this.sequences.get(key);
    const state: PartitionSequence = previous && previous.epoch === epoch ? previous : { epoch, lastSequence: -1, recent: [] };
    state.lastSequence = nextSequence(baseSequence, count - 1);
    state.recent.push({ first: baseSequence, last: state.lastSequence, baseOffset });
    if (state.recent.length > RECENT_BATCHES) state.recent.shift();
    this.sequences.set(key, state);
  }

  private key(producerId: number, partitionKey: string): string {
    return `${producerId}\n${partitionKey}`;
  }

  private touch(producerId: number, epoch: number): void {
    this.epochs.delete(producerId);
    this.epochs.set(producerId, epoch);
    if (this.epochs.size <= MAX_PRODUCERS) return;
    const [oldest] = this.epochs.keys();
    if (oldest === undefined) return;
    this.epochs.delete(oldest);
    for (const key of this.sequences.keys()) if (key.startsWith(`${oldest}\n`)) this.sequences.delete(key);
  }
}
