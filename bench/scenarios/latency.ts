// End-to-end latency at a fixed offered load: the worker (defaults) is running and owns every partition
// of an empty hub; the producer then offers `rate` events/s for `seconds`. An event's latency is from its
// enqueued time (stamped by the emulator when stored) to the moment its result line is read from the
// worker's stdout here (same wall clock). The first `warmUpSeconds` are left out. The emulator and Azurite
// run in a child process (bench/stack-process.ts), so this process's own pauses are only the producer's and
// the reader's.
// Checkpoint writes per second in this steady state are read from the worker's /metrics.
import { EventHubProducerClient } from "@azure/event-hubs";
import { waitFor } from "../../tools/wait-for";
import { runConsumerChild } from "../consumers/run-child";
import { PARTITIONS, RAW_CONSUMER_GROUP, workerDefaults } from "../local-hub";
import { sendAtRate } from "../paced-producer";
import { startBenchStackProcess } from "../stack-process";
import { summarizeLatency, type LatencySummary } from "../stats";
import { BenchWorker } from "../worker-process";
import { generateEvents } from "../workload";

export interface LatencySettings {
  rate: number;
  seconds: number;
  warmUpSeconds: number;
  /** Extra worker settings (e.g. NODE_OPTIONS for profiling); the worker's defaults otherwise. */
  workerEnv?: Record<string, string>;
}

export interface LatencyRun {
  offeredRate: number;
  achievedRate: number;
  latency: LatencySummary;
  results: number;
  sent: number;
  checkpointsPerSecond: number;
  peakRssBytes: number;
  /** The worker's own histogram (enqueued time to durable result, whole run): share within 50 ms. */
  workerSideShareWithin50Ms: number;
}

const ENQUEUED = /"enqueuedTimeUtc":"([^"]+)"/;

export interface ReceiveFloorRun {
  latency: LatencySummary;
  events: number;
}

/**
 * The same offered load read by the raw-receive child (configuration 1: no processing, the worker's
 * batch settings): the latency the SDK's receive path alone adds (it waits 20 ms after the first event
 * of a partial batch), i.e. the floor under any processor's figure.
 */
export async function runReceiveFloor(settings: LatencySettings): Promise<ReceiveFloorRun> {
  const stack = await startBenchStackProcess();
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName);
  try {
    const { subscription } = workerDefaults(stack);
    const events = generateEvents(Math.round(settings.rate * settings.seconds), PARTITIONS);
    const env = {
      BENCH_CONNECTION_STRING: stack.eventHubConnectionString,
      BENCH_EVENTHUB_NAME: stack.eventHubName,
      BENCH_CONSUMER_GROUP: RAW_CONSUMER_GROUP,
      BENCH_EXPECTED_EVENTS: String(events.length),
      BENCH_TIME_LIMIT_MS: String((settings.seconds + 60) * 1000),
      BENCH_MAX_BATCH_SIZE: String(subscription.maxBatchSize),
      BENCH_MAX_WAIT_MS: String(subscription.maxWaitTimeMs),
      BENCH_PREFETCH_COUNT: String(subscription.prefetchCount),
      BENCH_WARM_UP_MS: String(settings.warmUpSeconds * 1000),
    };
    const measured = await runConsumerChild("raw-receive-latency", "bench/consumers/raw-receive.ts", env, (settings.seconds + 90) * 1000, async () => {
      await producer.getPartitionIds();
      await sendAtRate(producer, events, settings.rate);
    });
    if (!measured.latencyMs) throw new Error("the raw-receive child reported no latency");
    return { latency: measured.latencyMs, events: measured.events };
  } finally {
    await producer.close();
    await stack.stop();
  }
}

export async function runLatency(settings: LatencySettings, log: (line: string) => void): Promise<LatencyRun> {
  const stack = await startBenchStackProcess();
  const samples: number[] = [];
  let measureFrom = Number.POSITIVE_INFINITY;
  const worker = new BenchWorker({
    name: "worker",
    env: { ...stack.env(), ...settings.workerEnv },
    onResultLine: (line, receivedAt) => {
      const enqueued = ENQUEUED.exec(line)?.[1];
      if (enqueued === undefined) return;
      const enqueuedAt = Date.parse(enqueued);
      if (enqueuedAt >= measureFrom) samples.push(receivedAt - enqueuedAt);
    },
  });
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName);
  try {
    await worker.started(60_000);
    await waitFor("the worker to own every partition", async () => (await worker.status()).ownedPartitions.length === PARTITIONS, 60_000, () => worker.describe());
    await producer.getPartitionIds(); // connected before the clock starts
    const events = generateEvents(Math.round(settings.rate * settings.seconds), PARTITIONS);
    const checkpointsBefore = await worker.counter("worker_checkpoints_total", { result: "written" });
    measureFrom = Date.now() + settings.warmUpSeconds * 1000;
    const sent = await sendAtRate(producer, events, settings.rate);
    const checkpointsAfter = await worker.counter("worker_checkpoints_total", { result: "written" });
    if (sent.lateTicks > 0) log(`  producer fell behind its 10 ms ticks ${sent.lateTicks} times (achieved ${Math.round(sent.sent / sent.seconds)} events/s)`);
    await waitFor("every result", () => worker.stdoutLines >= events.length, 30_000, () => worker.describe());
    const within50Ms = await worker.counter("worker_end_to_end_latency_seconds_bucket", { le: "0.05" });
    const observed = await worker.counter("worker_end_to_end_latency_seconds_count");
    return {
      offeredRate: settings.rate,
      achievedRate: sent.sent / sent.seconds,
      latency: summarizeLatency(samples),
      results: worker.stdoutLines,
      sent: sent.sent,
      checkpointsPerSecond: (checkpointsAfter - checkpointsBefore) / sent.seconds,
      peakRssBytes: await worker.peakRssBytes(),
      workerSideShareWithin50Ms: observed > 0 ? within50Ms / observed : Number.NaN,
    };
  } finally {
    await producer.close();
    await worker.stop();
    await stack.stop();
  }
}
