// Configuration 2, the processor ceiling: the default text-insights processor (startTextInsights, the
// worker's thread count and queue) on the benchmark's events, with no Event Hubs at all. It is driven the
// way the worker drives it: batches of the worker's batch size through processMany, at most
// BENCH_BATCHES_IN_FLIGHT at once (one per partition, which already keeps every thread busy), with bodies as
// received (bytes) through processReceived, so the threads decode them as they do in the worker. Child
// process of `npm run bench`.
import { z } from "zod";
import type { EventInput } from "../../worker/index";
import { startTextInsights } from "../../worker/processing/text-insights-processor";
import { CONTENT_TYPE, generateEvents } from "../workload";
import { CpuMeter, readChildSettings, reportSummary } from "./child-protocol";

async function main(): Promise<void> {
  const settings = readChildSettings({
    BENCH_EXPECTED_EVENTS: z.coerce.number().int().min(1),
    BENCH_PARTITIONS: z.coerce.number().int().min(1),
    BENCH_THREADS: z.coerce.number().int().min(1),
    BENCH_THREAD_IDLE_MS: z.coerce.number().int().min(1),
    BENCH_MAX_QUEUE: z.coerce.number().int().min(1),
    BENCH_TIMEOUT_MS: z.coerce.number().int().min(1),
    BENCH_BATCH_SIZE: z.coerce.number().int().min(1),
    BENCH_BATCHES_IN_FLIGHT: z.coerce.number().int().min(1),
    BENCH_TIME_LIMIT_MS: z.coerce.number().int().min(100),
  });
  const enqueuedTimeUtc = new Date().toISOString();
  const inputs: EventInput[] = generateEvents(settings.BENCH_EXPECTED_EVENTS, settings.BENCH_PARTITIONS).map((event) => ({
    partitionId: event.partitionId,
    sequenceNumber: Math.floor(event.index / settings.BENCH_PARTITIONS),
    offset: String(event.index),
    enqueuedTimeUtc,
    contentType: CONTENT_TYPE,
    body: event.body,
    properties: {},
  }));
  const processor = await startTextInsights({ threads: settings.BENCH_THREADS, idleThreadMs: settings.BENCH_THREAD_IDLE_MS, maxQueue: settings.BENCH_MAX_QUEUE, timeoutMs: settings.BENCH_TIMEOUT_MS });
  const processReceived = processor.processReceived.bind(processor);
  const deadline = performance.now() + settings.BENCH_TIME_LIMIT_MS;
  const cpu = new CpuMeter();
  cpu.start();
  const started = performance.now();
  let next = 0;
  let done = 0;
  // A fixed number of submitters, each taking the next batch when its previous one is done.
  const submitter = async () => {
    while (next < inputs.length && performance.now() < deadline) {
      const batch = inputs.slice(next, next + settings.BENCH_BATCH_SIZE);
      next += batch.length;
      const settlements = await processReceived(batch);
      done += settlements.filter((s) => s.ok).length;
    }
  };
  await Promise.all(Array.from({ length: settings.BENCH_BATCHES_IN_FLIGHT }, submitter));
  const seconds = (performance.now() - started) / 1000;
  reportSummary({ events: done, seconds, checkpoints: 0, completed: done === inputs.length, ...cpu.cost() });
  await processor.close();
}

void main();
