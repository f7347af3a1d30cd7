// One repetition of the throughput comparison: the same backlog, stored once in a fresh local stack, is
// drained by each configuration in its own child process (its own consumer group, from the earliest
// event), and processed by the text-insights processor alone. The worker's run is also where its peak
// RSS (draining the backlog) and its checkpoint writes per second are read.
import { EventHubProducerClient } from "@azure/event-hubs";
import { checkpointContainerName } from "../../common/names";
import type { LocalStack } from "../../emulator/index";
import type { WorkerConfig } from "../../worker/index";
import { waitFor } from "../../tools/wait-for";
import { runConsumerChild, type ChildMeasurement } from "../consumers/run-child";
import { CpuWatch, type CpuCost } from "../cpu-usage";
import {
  PARTITIONS,
  RAW_CONSUMER_GROUP,
  SAMPLE_BATCHED_CONSUMER_GROUP,
  SAMPLE_CONSUMER_GROUP,
  startBenchStack,
  workerDefaults,
} from "../local-hub";
import { BenchWorker } from "../worker-process";
import { workerCommand } from "../../tools/worker-process";
import { benchText, sendAll, type BenchEvent } from "../workload";

export interface ThroughputSettings {
  /** Time limit of the slow SDK-sample configurations: their rate is measured over what they finish by then. */
  sampleTimeLimitMs: number;
  /** Safety limit for every other configuration. */
  timeLimitMs: number;
  /** Extra environment for the worker and every consumer child (e.g. NODE_OPTIONS for profiling). */
  childEnv?: Record<string, string>;
}

export interface WorkerDrain extends CpuCost {
  events: number;
  seconds: number;
  completed: boolean;
  peakRssBytes: number;
  checkpointsWritten: number;
}

export interface ThroughputRepetition {
  raw: ChildMeasurement;
  processor: ChildMeasurement;
  /** The processor alone on one thread (only when the worker runs more), for how it scales with threads. */
  processorOneThread?: ChildMeasurement;
  sample: ChildMeasurement;
  sampleBatched: ChildMeasurement;
  worker: WorkerDrain;
  threads: number;
}

export const eventsPerSecond = (m: { events: number; seconds: number }): number => (m.seconds > 0 ? m.events / m.seconds : 0);

function hubEnv(stack: LocalStack, consumerGroup: string, expected: number, timeLimitMs: number, subscription: { maxBatchSize: number; maxWaitMs: number; prefetchCount: number }) {
  return {
    BENCH_CONNECTION_STRING: stack.eventHubConnectionString,
    BENCH_EVENTHUB_NAME: stack.eventHubName,
    BENCH_CONSUMER_GROUP: consumerGroup,
    BENCH_EXPECTED_EVENTS: String(expected),
    BENCH_TIME_LIMIT_MS: String(timeLimitMs),
    BENCH_MAX_BATCH_SIZE: String(subscription.maxBatchSize),
    BENCH_MAX_WAIT_MS: String(subscription.maxWaitMs),
    BENCH_PREFETCH_COUNT: String(subscription.prefetchCount),
  };
}

function sampleEnv(stack: LocalStack, consumerGroup: string, expected: number, timeLimitMs: number, subscription: { maxBatchSize: number; maxWaitMs: number; prefetchCount: number }) {
  return {
    ...hubEnv(stack, consumerGroup, expected, timeLimitMs, subscription),
    BENCH_STORAGE_CONNECTION_STRING: stack.storageConnectionString,
    BENCH_CHECKPOINT_CONTAINER: checkpointContainerName(consumerGroup),
  };
}

async function drainWithWorker(stack: LocalStack, expected: number, timeLimitMs: number, childEnv: Record<string, string>, log: (line: string) => void): Promise<WorkerDrain> {
  const worker = new BenchWorker({ name: "worker", env: { ...stack.env(), ...childEnv } });
  const cpu = new CpuWatch(worker.pid);
  try {
    await worker.started(60_000);
    const done = () => worker.stdoutLines >= expected || !worker.running;
    await waitFor("the worker to drain the backlog", done, timeLimitMs).catch(() => log(`worker: time limit reached with ${worker.stdoutLines}/${expected} results`));
    const { firstStdoutAt, lastStdoutAt, stdoutLines } = worker;
    const seconds = firstStdoutAt === undefined || lastStdoutAt === undefined ? 0 : (lastStdoutAt - firstStdoutAt) / 1000;
    cpu.sample();
    const cost = firstStdoutAt === undefined || lastStdoutAt === undefined ? { cpuSeconds: Number.NaN, machineIdleShare: Number.NaN } : cpu.between(firstStdoutAt, lastStdoutAt);
    const checkpointsWritten = await worker.counter("worker_checkpoints_total", { result: "written" });
    const peakRssBytes = await worker.peakRssBytes();
    return { events: stdoutLines, seconds, completed: stdoutLines >= expected, peakRssBytes, checkpointsWritten, ...cost };
  } finally {
    cpu.stop();
    await worker.stop();
  }
}

export async function runThroughputRepetition(events: readonly BenchEvent[], settings: ThroughputSettings, log: (line: string) => void): Promise<ThroughputRepetition> {
  const stack = await startBenchStack();
  try {
    const defaults: WorkerConfig = workerDefaults(stack);
    if (defaults.processor.kind !== "text-insights") throw new Error(`the worker's default processor is ${defaults.processor.kind}, not text-insights`);
    const { threads, idleThreadMs, maxQueue, timeoutMs } = defaults.processor;
    const workerSubscription = {
      maxBatchSize: defaults.subscription.maxBatchSize,
      maxWaitMs: defaults.subscription.maxWaitTimeMs,
      prefetchCount: defaults.subscription.prefetchCount,
    };
    const expected = events.length;
    const childEnv = settings.childEnv ?? {};

    const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName);
    try {
      await sendAll(producer, events);
    } finally {
      await producer.close();
    }

    const processorAlone = (threadCount: number) =>
      runConsumerChild("processor-only", "bench/consumers/processor-only.ts", {
        BENCH_EXPECTED_EVENTS: String(expected),
        BENCH_PARTITIONS: String(PARTITIONS),
        BENCH_THREADS: String(threadCount),
        BENCH_THREAD_IDLE_MS: String(idleThreadMs),
        BENCH_MAX_QUEUE: String(maxQueue),
        BENCH_TIMEOUT_MS: String(timeoutMs),
        BENCH_BATCH_SIZE: String(workerSubscription.maxBatchSize),
        BENCH_BATCHES_IN_FLIGHT: String(PARTITIONS),
        BENCH_TIME_LIMIT_MS: String(settings.timeLimitMs),
        BENCH_TEXT: benchText(),
        ...childEnv,
      }, settings.timeLimitMs + 60_000, undefined, workerCommand().nodeArgs); // the worker's V8 flags: its heap and GC helper sizes
    const processor = await processorAlone(threads);
    log(`  processor only, ${threads} thread(s): ${Math.round(eventsPerSecond(processor))} events/s`);
    const processorOneThread = threads > 1 ? await processorAlone(1) : undefined;
    if (processorOneThread) log(`  processor only, 1 thread: ${Math.round(eventsPerSecond(processorOneThread))} events/s`);

    const raw = await runConsumerChild("raw-receive", "bench/consumers/raw-receive.ts",
      { ...hubEnv(stack, RAW_CONSUMER_GROUP, expected, settings.timeLimitMs, workerSubscription), ...childEnv }, settings.timeLimitMs + 60_000);
    log(`  raw receive: ${Math.round(eventsPerSecond(raw))} events/s`);

    // The sample leaves every option at the SDK default: batch 1, 60 s wait, prefetch 3 x batch.
    const sample = await runConsumerChild("sdk-sample", "bench/consumers/sdk-sample.ts",
      { ...sampleEnv(stack, SAMPLE_CONSUMER_GROUP, expected, settings.sampleTimeLimitMs, { maxBatchSize: 1, maxWaitMs: 60_000, prefetchCount: 3 }), ...childEnv },
      settings.sampleTimeLimitMs + 60_000);
    log(`  SDK sample pattern: ${Math.round(eventsPerSecond(sample))} events/s`);

    const sampleBatched = await runConsumerChild("sdk-sample-batched", "bench/consumers/sdk-sample.ts",
      { ...sampleEnv(stack, SAMPLE_BATCHED_CONSUMER_GROUP, expected, settings.sampleTimeLimitMs, workerSubscription), ...childEnv },
      settings.sampleTimeLimitMs + 60_000);
    log(`  SDK sample pattern, worker's batch settings: ${Math.round(eventsPerSecond(sampleBatched))} events/s`);

    const worker = await drainWithWorker(stack, expected, settings.timeLimitMs, childEnv, log);
    log(`  worker: ${Math.round(eventsPerSecond(worker))} events/s, peak RSS ${Math.round(worker.peakRssBytes / 1024 / 1024)} MB`);
    return { raw, processor, ...(processorOneThread ? { processorOneThread } : {}), sample, sampleBatched, worker, threads };
  } finally {
    await stack.stop();
  }
}
