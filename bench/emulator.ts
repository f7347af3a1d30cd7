// Throughput of the local Event Hubs emulator with the official SDK on both ends, all in this process:
//   send      EventHubProducerClient sends N 1 KB events in EventDataBatches across the partitions;
//   receive   EventHubConsumerClient reads those N stored events from the earliest position;
//   e2e       a consumer is already subscribed while the producer sends N more: first send to last receive.
// Each mode runs several times on a fresh emulator; the table shows medians. Results go to emulator.json
// (bench/results/ for the reference run: results-dir.ts).
//
//   npm run bench:emulator -- [--events 100000] [--runs 3] [--event-bytes 1024] [--out DIR]
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type EventPosition,
} from "@azure/event-hubs";
import { Command } from "commander";
import { z } from "zod";
import { parseEmulatorConfig } from "../emulator/config";
import { EventHubsEmulator } from "../emulator/server";
import { optionsOrExit, wholeNumber } from "../common/cli";
import { sendBatches } from "../common/send-batches";
import { resultsDirectory, writeResults } from "./results-dir";
import { plural } from "../common/plural";

const HUB = "events";
const PARTITIONS = 4;
const RUN_TIMEOUT_MS = 180_000;

interface Options {
  events: number;
  runs: number;
  eventBytes: number;
  out?: string | undefined;
}

/** The committed results' run: `npm run bench:emulator -- --events 100000 --runs 5`. */
const REFERENCE = { events: 100_000, runs: 5, eventBytes: 1024 };

interface Measurement {
  events: number;
  bytes: number;
  seconds: number;
}

/** Flags through the shared parser: --help prints usage, a bad or unknown flag a message and exit 2 (no stack trace). */
function readOptions(): Options {
  const command = new Command("bench:emulator")
    .description("Throughput of the local Event Hubs emulator alone, with the official SDK producer and consumer in this process.")
    .option("--events <n>", "events per run (at least one per partition)", "100000")
    .option("--runs <n>", "runs per mode; the table shows medians", "3")
    .option("--event-bytes <n>", "body size of each event", "1024")
    .option("--out <dir>", "where emulator.json goes (default: bench/results for the reference run, bench/results/scratch for any other)");
  const schema = z.object({ events: wholeNumber(PARTITIONS, 10_000_000), runs: wholeNumber(1, 100), eventBytes: wholeNumber(1, 1_000_000), out: z.string().min(1).optional() });
  return optionsOrExit({ command, schema, title: "Invalid bench:emulator options" });
}

async function withEmulator<T>(body: (connectionString: string) => Promise<T>): Promise<T> {
  const emulator = await EventHubsEmulator.start({
    config: parseEmulatorConfig({ hubs: [{ name: HUB, partitionCount: PARTITIONS }], maxMemoryBytes: 4 * 1024 ** 3 }, "bench"),
  });
  try {
    return await body(emulator.connectionString());
  } finally {
    await emulator.stop();
  }
}

/** Sends `count` events split evenly over the partitions, one batch stream per partition in parallel. */
async function sendEvents(connectionString: string, count: number, eventBytes: number): Promise<Measurement> {
  const producer = new EventHubProducerClient(connectionString, HUB);
  const body = Buffer.alloc(eventBytes, "x");
  try {
    await producer.getPartitionIds(); // connect + authorize before the clock starts
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => {
        const partitionId = String(p);
        const share = Math.floor(count / PARTITIONS) + (p < count % PARTITIONS ? 1 : 0);
        await sendBatches(producer, Array.from({ length: share }, () => ({ body })), { partitionId });
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { events: count, bytes: count * eventBytes, seconds };
  } finally {
    await producer.close();
  }
}

/** Subscribes to every partition from `position` and resolves when `count` events have arrived. */
function receiveEvents(consumer: EventHubConsumerClient, count: number, position: EventPosition): {
  ready: Promise<void>;
  done: Promise<{ bytes: number; lastAt: number }>;
} {
  let received = 0;
  let bytes = 0;
  let opened = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<{ bytes: number; lastAt: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${RUN_TIMEOUT_MS} ms with ${received}/${count} events`)), RUN_TIMEOUT_MS);
    const subscription = consumer.subscribe(
      {
        processInitialize: async () => {
          if (++opened === PARTITIONS) markReady();
        },
        processEvents: async (events) => {
          for (const event of events) bytes += (event.body as Buffer).length;
          received += events.length;
          if (received >= count) {
            clearTimeout(timer);
            const lastAt = performance.now();
            await subscription.close();
            resolve({ bytes, lastAt });
          }
        },
        processError: async (err) => reject(err),
      },
      { startPosition: position, maxBatchSize: 500, maxWaitTimeInSeconds: 1, prefetchCount: 2000, skipParsingBodyAsJson: true },
    );
  });
  return { ready, done };
}

async function runSendThenReceive(options: Options): Promise<{ send: Measurement; receive: Measurement }> {
  return withEmulator(async (connectionString) => {
    const send = await sendEvents(connectionString, options.events, options.eventBytes);
    const consumer = new EventHubConsumerClient("$Default", connectionString, HUB);
    try {
      await consumer.getPartitionIds();
      const started = performance.now();
      const { done } = receiveEvents(consumer, options.events, earliestEventPosition);
      const { bytes, lastAt } = await done;
      return { send, receive: { events: options.events, bytes, seconds: (lastAt - started) / 1000 } };
    } finally {
      await consumer.close();
    }
  });
}

async function runEndToEnd(options: Options): Promise<Measurement> {
  return withEmulator(async (connectionString) => {
    const consumer = new EventHubConsumerClient("$Default", connectionString, HUB);
    try {
      const { ready, done } = receiveEvents(consumer, options.events, latestEventPosition);
      await ready;
      // processInitialize runs before each link attaches; give the links a moment to be in place.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = performance.now();
      await sendEvents(connectionString, options.events, options.eventBytes);
      const { bytes, lastAt } = await done;
      return { events: options.events, bytes, seconds: (lastAt - started) / 1000 };
    } finally {
      await consumer.close();
    }
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarize(mode: string, runs: Measurement[]) {
  const eventsPerSecond = runs.map((r) => r.events / r.seconds);
  const megabytesPerSecond = runs.map((r) => r.bytes / 1024 / 1024 / r.seconds);
  return {
    mode,
    runs: runs.length,
    eventsPerSecond: Math.round(median(eventsPerSecond)),
    megabytesPerSecond: Number(median(megabytesPerSecond).toFixed(1)),
    allEventsPerSecond: eventsPerSecond.map(Math.round),
  };
}

async function main(): Promise<void> {
  const options = readOptions();
  const sends: Measurement[] = [];
  const receives: Measurement[] = [];
  const endToEnd: Measurement[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const { send, receive } = await runSendThenReceive(options);
    sends.push(send);
    receives.push(receive);
    endToEnd.push(await runEndToEnd(options));
    process.stderr.write(`run ${run}/${options.runs} done\n`);
  }
  const results = [summarize("send", sends), summarize("receive", receives), summarize("e2e", endToEnd)];
  console.log(`emulator throughput: ${options.events} events of ${options.eventBytes} B, ${PARTITIONS} partitions, median of ${plural(options.runs, "run")}`);
  console.table(results.map(({ mode, eventsPerSecond, megabytesPerSecond, allEventsPerSecond }) => ({
    mode,
    "events/s": eventsPerSecond,
    "MB/s": megabytesPerSecond,
    "each run (events/s)": allEventsPerSecond.join(", "),
  })));
  const { out, ...measured } = options;
  const report = { benchmark: "emulator", date: new Date().toISOString(), node: process.version, options: measured, results };
  process.stderr.write(`${await writeResults(resultsDirectory(out, measured, REFERENCE), { "emulator.json": `${JSON.stringify(report, null, 2)}\n` })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
