// The benchmark's events: customer-message-like JSON of a few hundred bytes, generated from a fixed seed so
// every configuration (and the processor-only child, which regenerates them) works on the same bodies.
// Event i goes to partition i % partitionCount.
import { EventHubProducerClient, type EventData } from "@azure/event-hubs";
import { sendBatches } from "../common/send-batches";
import { customerMessage } from "../tools/dev/sample-messages";

export const BENCH_SEED = 20_240_521;
export const CONTENT_TYPE = "application/json";

export interface BenchEvent {
  index: number;
  partitionId: string;
  body: Buffer;
}

/** mulberry32: a tiny, fast, seedable PRNG; quality is ample for picking message templates. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SENT_AT_BASE = Date.UTC(2024, 4, 21, 8, 0, 0);

/**
 * "repetitive": the sample messages as they are, whose words soon are all known to the NLP model;
 * "varied": each text also carries tokens seen nowhere else (a reference id and a hex string), as real
 * text does, which is what makes an NLP lexicon grow. Set with `npm run bench -- --text`, passed to child
 * processes as BENCH_TEXT.
 */
export type BenchText = "repetitive" | "varied";

export function benchText(): BenchText {
  return process.env.BENCH_TEXT === "varied" ? "varied" : "repetitive";
}

/** `count` events; every other one carries two messages of the customer (a longer text), about 300 B on average. */
export function generateEvents(count: number, partitionCount: number, seed = BENCH_SEED, kind: BenchText = benchText()): BenchEvent[] {
  const random = seededRandom(seed);
  const events: BenchEvent[] = [];
  for (let index = 0; index < count; index++) {
    const message = customerMessage(random);
    const pair = index % 2 === 1 ? `${message.text} ${customerMessage(random).text}` : message.text;
    const text = kind === "varied" ? `${pair} Ref ${uniqueToken(random)}, case ${uniqueToken(random)}.` : pair;
    const body = {
      ticketId: `T-${String(index).padStart(8, "0")}`,
      customerId: message.customerId,
      channel: message.channel,
      locale: "en-US",
      sentAt: new Date(SENT_AT_BASE + index * 10).toISOString(),
      text,
    };
    events.push({ index, partitionId: String(index % partitionCount), body: Buffer.from(JSON.stringify(body), "utf8") });
  }
  return events;
}

function uniqueToken(random: () => number): string {
  return Math.floor(random() * 2 ** 48).toString(16);
}

export function toEventData(event: BenchEvent): EventData {
  return { body: event.body, contentType: CONTENT_TYPE, messageId: `bench-${event.index}` };
}

/** Sends the events to their partitions, one batch stream per partition in parallel; resolves when all are stored. */
export async function sendAll(producer: EventHubProducerClient, events: readonly BenchEvent[]): Promise<void> {
  const byPartition = new Map<string, BenchEvent[]>();
  for (const event of events) {
    const list = byPartition.get(event.partitionId) ?? [];
    list.push(event);
    byPartition.set(event.partitionId, list);
  }
  await Promise.all(
    [...byPartition].map(([partitionId, list]) => sendBatches(producer, list.map(toEventData), { partitionId })),
  );
}

export function meanBodyBytes(events: readonly BenchEvent[]): number {
  return events.reduce((sum, event) => sum + event.body.byteLength, 0) / Math.max(1, events.length);
}
