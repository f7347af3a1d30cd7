// `npm run bench:costs`: what each step of the worker's main thread costs per event, measured in isolation on
// the benchmark's events (in batches of the worker's default size, as it receives them): decoding, handing a
// batch to a thread and its results back (as the pool did before: decoded events cloned, a progress message
// per event; and as it does now: metadata cloned, bodies packed and transferred), result serialisation, the
// stdout write and the checkpoint bookkeeping. Each step runs for about a second; the median of 5 such rounds is printed.
import { closeSync, openSync, writeSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import type { ReceivedEventData } from "@azure/event-hubs";
import { CheckpointPolicy } from "../worker/checkpoint-policy";
import { SETTINGS } from "../worker/config";
import { decodeEvent, receivedInput } from "../worker/decode-event";
import { packEvents } from "../worker/processing/thread-protocol";
import { serializeResultRecord, type ResultRecord } from "../worker/sinks/sink";
import { percentileOfSorted } from "./stats";
import { CONTENT_TYPE, generateEvents } from "./workload";

/** The worker's defaults: what it receives at once, and when it checkpoints. */
const BATCH = Number(SETTINGS.MAX_BATCH_SIZE.default);
const CHECKPOINT_SCHEDULE = { everyEvents: Number(SETTINGS.CHECKPOINT_EVERY_EVENTS.default), everyMs: Number(SETTINGS.CHECKPOINT_EVERY_MS.default) };
const ROUNDS = 5;
const ROUND_MS = 1000;

/** The benchmark's events as the SDK hands them over: each body a view into the frame it arrived in. */
function receivedBatch(): ReceivedEventData[] {
  const events = generateEvents(BATCH, 1);
  const frame = Buffer.concat(events.map((event) => event.body));
  let offset = 0;
  return events.map((event, i) => {
    const body = frame.subarray(offset, offset + event.body.byteLength);
    offset += event.body.byteLength;
    return {
      body, sequenceNumber: i, offset: String(i * 400), enqueuedTimeUtc: new Date(), partitionKey: null, properties: {},
      contentType: CONTENT_TYPE, messageId: `bench-${i}`, getRawAmqpMessage: () => ({ body }),
    } as unknown as ReceivedEventData;
  });
}

/** Milliseconds `work` took. */
function timed(work: () => unknown): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

/** Microseconds per event of `step`, which handles one batch and returns the milliseconds that count; median over the rounds. */
function perEvent(step: () => number): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let batches = 0;
    let counted = 0;
    const started = performance.now();
    while (performance.now() - started < ROUND_MS) {
      counted += step();
      batches++;
    }
    rounds.push((counted * 1000) / (batches * BATCH));
  }
  return percentileOfSorted(rounds.sort((a, b) => a - b), 50);
}

function main(): void {
  const batch = receivedBatch();
  const decoded = batch.map((event) => decodeEvent("0", event));
  const received = batch.map((event) => receivedInput("0", event));
  const results = decoded.map((input) => JSON.stringify({ sentiment: { score: 0.4, label: "positive" }, entities: [], pii: { emails: 0, phones: 0, urls: 0, redactedText: String((input.body as { text: string }).text) }, stats: { characters: 300, tokens: 60, words: 50, sentences: 3, readingEase: 70, englishStopWordRatio: 0.4 } }));
  const outcomes = results.map((json) => ({ ok: true, json, ms: 0.1 }));
  const records: ResultRecord[] = decoded.map((input, i) => ({
    partitionId: input.partitionId, sequenceNumber: input.sequenceNumber, offset: input.offset, enqueuedTimeUtc: input.enqueuedTimeUtc,
    processor: "text-insights", processedAt: new Date().toISOString(), resultJson: results[i]!,
  }));
  const { port1, port2 } = new MessageChannel();
  // A message's main-thread half: serialising what goes to a thread, deserialising what comes back.
  const sent = (message: () => { message: unknown; transfer?: ArrayBuffer[] }) => {
    const elapsed = timed(() => {
      const { message: body, transfer = [] } = message();
      port1.postMessage(body, transfer);
    });
    receiveMessageOnPort(port2);
    return elapsed;
  };
  const receivedBack = (message: unknown) => {
    port1.postMessage(message);
    return timed(() => receiveMessageOnPort(port2));
  };
  const chunk = records.map((record) => serializeResultRecord(record) + "\n").join("");
  const devNull = openSync("/dev/null", "w");
  const policy = new CheckpointPolicy(CHECKPOINT_SCHEDULE, Date.now());

  const steps: Array<[string, () => number]> = [
    ["decode (before): metadata, UTF-8, JSON.parse", () => timed(() => batch.forEach((event) => decodeEvent("0", event)))],
    ["metadata only (now: the threads decode)", () => timed(() => batch.forEach((event) => receivedInput("0", event)))],
    ["decoded events cloned to a thread (before)", () => sent(() => ({ message: { inputs: decoded, timeoutMs: 30_000 } }))],
    ["a progress message per event, received (before)", () => decoded.reduce((total, _, i) => total + receivedBack([1, i]), 0)],
    ["bodies packed and transferred, metadata cloned (now)", () => sent(() => {
      const { events, transfer } = packEvents(received, true);
      return { message: { events, timeoutMs: 30_000 }, transfer };
    })],
    ["results received from the thread", () => receivedBack(outcomes)],
    ["result records serialised for the sink", () => timed(() => records.map((record) => serializeResultRecord(record) + "\n").join(""))],
    ["the batch's write (to /dev/null)", () => timed(() => writeSync(devNull, chunk))],
    ["checkpoint bookkeeping", () => timed(() => {
      policy.recordDurable({ sequenceNumber: 1, offset: "1" }, BATCH);
      if (policy.isDue(Date.now())) policy.markCheckpointed(undefined, Date.now());
    })],
  ];
  const rows = steps.map(([name, step]) => `| ${name} | ${perEvent(step).toFixed(2)} |`);
  closeSync(devNull);
  port1.close();
  process.stdout.write(["| Main-thread step, per event | µs |", "|---|---:|", ...rows, ""].join("\n"));
}

main();
