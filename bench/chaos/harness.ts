// One chaos run: a fresh stack, `workers` real worker processes, a stamped producer at `rate` events/s for
// `durationSeconds`, faults injected on a schedule meanwhile, then a drain (every event accounted for, or
// the drain timeout), a graceful stop, and the verdict over every result line and dead letter.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient, type EventData } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { DEAD_LETTER_CONTAINER } from "../../common/names";
import { waitFor } from "../../tools/wait-for";
import { BlobResults, CHAOS_RESULTS_CONTAINER } from "./blob-results";
import { CHAOS_CONSUMER_GROUP, CHAOS_HUB, ChaosStack } from "./chaos-stack";
import { FaultInjector, type FaultKind, type FaultRecord } from "./faults";
import { ChaosFleet } from "./fleet";
import { FakeModelServer } from "../fake-model-server";
import { StampedEvents } from "./stamped-events";
import { duplicatesByFault, judge, type ChaosVerdict, type DeadLetterObservation } from "./verdict";
import { plural } from "../../common/plural";

export interface ChaosOptions {
  durationSeconds: number;
  workers: number;
  /** Offered events per second. */
  rate: number;
  faults: FaultKind[];
  faultIntervalSeconds: number;
  /** Share of events that are poison, 0..1. */
  poisonRatio: number;
  seed: number;
  drainTimeoutSeconds: number;
  partitions: number;
  restartAfterMs: number;
  azuriteDownMs: number;
  /** How long the "model" fault keeps the model out. */
  modelOutageMs: number;
}

export interface ChaosOutcome {
  runId: string;
  options: ChaosOptions;
  sent: number;
  poisonSent: number;
  faults: FaultRecord[];
  verdict: ChaosVerdict;
  /** Duplicates by the kind of fault that caused them (verdict.ts: duplicatesByFault). */
  duplicatesByFault: Record<string, number>;
  /** Whether every event was accounted for before the drain timeout. */
  drained: boolean;
  drainSeconds: number;
  truncatedLines: number;
  workerInstances: number;
  /** Process diagnostics, only when the verdict failed. */
  diagnostics?: string;
}

const TICK_MS = 20;
const SEND_ATTEMPTS = 20;

async function sendUntilStored(producer: EventHubProducerClient, partitionId: string, events: EventData[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.sendBatch(events, { partitionId });
      return;
    } catch (error) {
      // Faults drop the producer's connection too; a send the service did store may be repeated (a duplicate, which the verdict reports).
      if (attempt >= SEND_ATTEMPTS) throw new Error(`could not send to partition ${partitionId} after ${attempt} attempts: ${(error as Error).message}`);
      await sleep(250);
    }
  }
}

async function produce(producer: EventHubProducerClient, events: StampedEvents, rate: number, durationSeconds: number): Promise<void> {
  const started = performance.now();
  const total = Math.round(rate * durationSeconds);
  while (events.ledger.length < total) {
    const due = Math.min(total, Math.floor((rate * (performance.now() - started)) / 1000));
    const byPartition = new Map<string, EventData[]>();
    while (events.ledger.length < due) {
      const { partitionId, event } = events.next();
      const list = byPartition.get(partitionId) ?? [];
      list.push(event);
      byPartition.set(partitionId, list);
    }
    await Promise.all([...byPartition].map(([partitionId, list]) => sendUntilStored(producer, partitionId, list)));
    await sleep(TICK_MS);
  }
}

async function injectOnSchedule(injector: FaultInjector, options: ChaosOptions, isProducing: () => boolean, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const intervalMs = options.faultIntervalSeconds * 1000;
  for (let n = 0; options.faults.length > 0; n++) {
    const dueAt = started + Math.min(3000, intervalMs) + n * intervalMs;
    await sleep(Math.max(0, dueAt - performance.now()));
    if (!isProducing()) return;
    const kind = options.faults[n % options.faults.length]!;
    const record = await injector.inject(kind, (performance.now() - started) / 1000);
    log(`  t=${record.atSeconds.toFixed(1)}s ${kind}: ${record.detail}`);
  }
}

async function readDeadLetters(stack: ChaosStack): Promise<DeadLetterObservation[]> {
  const container = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(DEAD_LETTER_CONTAINER);
  const letters: DeadLetterObservation[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${CHAOS_HUB}/${CHAOS_CONSUMER_GROUP}/` })) {
    const record = JSON.parse((await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8")) as DeadLetterObservation;
    letters.push(record);
  }
  return letters;
}

async function countDeadLetters(stack: ChaosStack): Promise<number> {
  const container = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(DEAD_LETTER_CONTAINER);
  let count = 0;
  for await (const _blob of container.listBlobsFlat({ prefix: `${CHAOS_HUB}/${CHAOS_CONSUMER_GROUP}/` })) count++;
  return count;
}

/** Every good event has a result and there are as many dead letters as poison events. */
async function waitForDrain(stack: ChaosStack, results: BlobResults, events: StampedEvents, timeoutMs: number): Promise<boolean> {
  const goodMessageIds = new Set(events.ledger.filter((e) => !e.poison).map((e) => `${events.runId}-${e.index}`));
  const poison = events.ledger.length - goodMessageIds.size;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await results.poll().catch(() => undefined); // Azurite may be restarting
    const processed = new Set<string>();
    for (const { messageId } of results.results) if (messageId !== undefined && goodMessageIds.has(messageId)) processed.add(messageId);
    if (processed.size >= goodMessageIds.size && (await countDeadLetters(stack).catch(() => -1)) >= poison) return true;
    await sleep(500);
  }
  return false;
}

export async function runChaos(options: ChaosOptions, log: (line: string) => void): Promise<ChaosOutcome> {
  const runId = `chaos-${randomBytes(4).toString("hex")}`;
  const stack = await ChaosStack.start(options.partitions);
  // The model every event's processor asks first (see integrity-processor.ts), for the "model" fault.
  const model = await FakeModelServer.start();
  const fleet = new ChaosFleet({ ...stack.env(), CHAOS_MODEL_URL: `${model.baseUrl}/chat/completions` }, options.workers);
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, CHAOS_HUB, {
    retryOptions: { maxRetries: 3, retryDelayInMs: 200, timeoutInMs: 5000 },
  });
  try {
    log(`run ${runId}: ${plural(options.workers, "worker")}, ${options.rate} events/s for ${options.durationSeconds} s, faults ${options.faults.join(", ") || "none"} every ${options.faultIntervalSeconds} s`);
    await fleet.start(90_000);
    await waitFor("the workers to own every partition", async () => (await fleet.ownedPartitions()).size === options.partitions, 60_000, () => fleet.describe());
    const events = new StampedEvents(runId, options.partitions, options.poisonRatio, options.seed);
    const results = new BlobResults(
      BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(CHAOS_RESULTS_CONTAINER),
      (pid) => fleet.instanceOf(pid),
    );
    const injector = new FaultInjector({
      stack, fleet, events, results, model,
      restartAfterMs: options.restartAfterMs, azuriteDownMs: options.azuriteDownMs, modelOutageMs: options.modelOutageMs,
    });
    let producing = true;
    const faults = injectOnSchedule(injector, options, () => producing, log);
    await produce(producer, events, options.rate, options.durationSeconds).finally(() => {
      producing = false;
    });
    await faults;
    log(`  sent ${events.ledger.length} events; draining`);
    const drainStarted = performance.now();
    const drained = await waitForDrain(stack, results, events, options.drainTimeoutSeconds * 1000);
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    await fleet.stopAll(20_000);
    await results.poll(); // what the graceful stops wrote last
    const verdict = judge(runId, events.ledger, results.results, await readDeadLetters(stack));
    return {
      runId,
      options,
      sent: events.ledger.length,
      poisonSent: events.ledger.filter((e) => e.poison).length,
      faults: injector.injected,
      verdict,
      duplicatesByFault: duplicatesByFault(runId, results.results, injector.injected),
      drained,
      drainSeconds,
      truncatedLines: results.truncatedLines,
      workerInstances: fleet.everyInstance.length,
      ...(verdict.ok ? {} : { diagnostics: fleet.describe() }),
    };
  } finally {
    await producer.close().catch(() => undefined);
    await fleet.stopAll(5000).catch(() => undefined);
    await Promise.all([stack.stop(), model.close()]);
  }
}
