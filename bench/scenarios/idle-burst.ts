// Idle, then a burst (azure-sdk-for-js #39452): every empty receive of an idle partition grants the
// service another prefetch's worth of link credit, so after N max-wait periods a burst can be pushed into
// the worker N x prefetch events deep per partition. The worker (defaults) idles on an empty hub for
// `idleSeconds`, then `burstPerPartition` events per partition arrive at once. Measured: the worker's
// resident memory before the burst and its peak after, and whether every event got exactly one or more
// results (nothing lost). A control run without the idle period shows what the burst alone costs.
import { EventHubProducerClient } from "@azure/event-hubs";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../../tools/wait-for";
import { startBenchStack, PARTITIONS, workerDefaults } from "../local-hub";
import { BenchWorker } from "../worker-process";
import { generateEvents, sendAll } from "../workload";

export interface IdleBurstSettings {
  idleSeconds: number;
  burstPerPartition: number;
  timeLimitMs: number;
  /** Extra worker settings (e.g. a shorter MAX_WAIT_MS); the worker's defaults otherwise. */
  workerEnv?: Record<string, string>;
}

export interface IdleBurstRun {
  idleSeconds: number;
  /** Max-wait periods the idle lasted: each one can add a prefetch's worth of credit per partition. */
  idlePeriods: number;
  prefetchCount: number;
  burstEvents: number;
  rssBeforeBurstBytes: number;
  peakRssBytes: number;
  distinctResults: number;
  lost: number;
  drainSeconds: number;
}

const RESULT_KEY = /"partitionId":"([^"]+)","sequenceNumber":(\d+)/;

export async function runIdleBurst(settings: IdleBurstSettings): Promise<IdleBurstRun> {
  const stack = await startBenchStack();
  const seen = new Set<string>();
  const worker = new BenchWorker({
    name: "worker",
    env: { ...stack.env(), ...settings.workerEnv },
    onResultLine: (line) => {
      const match = RESULT_KEY.exec(line);
      if (match) seen.add(`${match[1]}:${match[2]}`);
    },
  });
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName);
  try {
    const defaults = workerDefaults(stack, settings.workerEnv);
    await worker.started(60_000);
    await waitFor("the worker to own every partition", async () => (await worker.status()).ownedPartitions.length === PARTITIONS, 60_000, () => worker.describe());
    await sleep(settings.idleSeconds * 1000);
    const rssBeforeBurstBytes = await worker.rssBytes();
    const events = generateEvents(settings.burstPerPartition * PARTITIONS, PARTITIONS);
    const started = performance.now();
    await sendAll(producer, events);
    await waitFor("every burst event to have a result", () => seen.size >= events.length || !worker.running, settings.timeLimitMs).catch(() => undefined);
    return {
      idleSeconds: settings.idleSeconds,
      idlePeriods: Math.floor((settings.idleSeconds * 1000) / defaults.subscription.maxWaitTimeMs),
      prefetchCount: defaults.subscription.prefetchCount,
      burstEvents: events.length,
      rssBeforeBurstBytes,
      peakRssBytes: await worker.peakRssBytes(),
      distinctResults: seen.size,
      lost: events.length - seen.size,
      drainSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await producer.close();
    await worker.stop();
    await stack.stop();
  }
}
