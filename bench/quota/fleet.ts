// The fleet scenarios of `npm run bench:quota`: several worker processes of one consumer group (PROCESSOR=model)
// drain a backlog through one or more model deployments, each a local model server with an Azure-style quota
// that MODEL_DEPLOYMENTS declares (requestsPerMinute), as the stack does. Replicas start, join, leave and lose a
// deployment mid-run as a Container Apps fleet does. What is measured is what the quota owner pays and gets:
// goodput as a share of the quota available, 429s per success, model calls answered 200 per event (a call paid
// twice shows here), enqueued-to-result latency, good events dead-lettered and events lost.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { DEAD_LETTER_CONTAINER } from "../../common/names";
import { startLocalStack } from "../../emulator/index";
import { waitFor } from "../../tools/wait-for";
import { FakeModelServer } from "../fake-model-server";
import { summarizeLatency, type LatencySummary } from "../stats";
import { BenchWorker } from "../worker-process";
import { generateEvents, sendAll } from "../workload";

/** 8 partitions, so that 8 replicas each own one (KEDA never runs more replicas than partitions). */
const FLEET_PARTITIONS = 8;
const HUB = "fleet";

export interface FleetDeployment {
  name: string;
  requestsPerMinute: number;
  priority?: number;
}

export interface FleetScenario {
  id: string;
  label: string;
  deployments: FleetDeployment[];
  processes: number;
  /** balanced: the replicas share the partitions out before the backlog is sent; together: they all start on it. */
  start: "balanced" | "together";
  /** Replicas added (scale-out) or stopped with SIGTERM (scale-in) once this share of the backlog is processed. */
  change?: { atProcessed: number; add?: number; stop?: number };
  /** A deployment answering 503 to everything for a while, from this share of the backlog on. */
  outage?: { deployment: number; atProcessed: number; seconds: number };
}

export interface FleetRun {
  id: string;
  label: string;
  events: number;
  /** Requests/s the deployments allow, summed. */
  quotaPerSecond: number;
  /** Answers 200 per second over the run, divided by the quota that was available meanwhile (outages left out). */
  goodputShare: number;
  throttledPerSuccess: number;
  /** Model calls answered 200 per event processed: 1.00 means no call paid twice. */
  callsPerEvent: number;
  /** Result lines beyond the first for an event. */
  duplicates: number;
  processed: number;
  deadLettered: number;
  /** Neither a result nor a dead letter when the run ended. */
  lost: number;
  seconds: number;
  latency: LatencySummary;
  /** Answers 200 per second per deployment, from the first request. */
  timeline: Record<string, number[]>;
}

const LATENCY = { baseMs: 100, perCompletionTokenMs: 4 };
const OUTPUT_TOKENS = 50;

export function fleetScenarios(): FleetScenario[] {
  const one = (requestsPerMinute: number): FleetDeployment[] => [{ name: "primary", requestsPerMinute }];
  const tight = 600;
  const generous = 6000;
  const sizes = (quota: "tight" | "generous", rpm: number) =>
    [2, 4, 8].map((processes): FleetScenario => ({ id: `fleet${processes}-${quota}`, label: `${processes} processes, one deployment (${quota})`, deployments: one(rpm), processes, start: "balanced" }));
  return [
    ...sizes("tight", tight),
    ...sizes("generous", generous),
    { id: "fleet4-together", label: "4 processes started together on the backlog", deployments: one(tight), processes: 4, start: "together" },
    { id: "fleet-scale-out", label: "scale-out 1 -> 4 mid-run", deployments: one(tight), processes: 1, start: "balanced", change: { atProcessed: 0.25, add: 3 } },
    { id: "fleet-scale-in", label: "scale-in 4 -> 2 mid-run (SIGTERM)", deployments: one(tight), processes: 4, start: "balanced", change: { atProcessed: 0.25, stop: 2 } },
    {
      id: "fleet-two-sizes", label: "4 processes, two deployments of different sizes", processes: 4, start: "balanced",
      deployments: [{ name: "small", requestsPerMinute: 300 }, { name: "large", requestsPerMinute: 900 }],
    },
    {
      id: "fleet-one-down", label: "4 processes, three deployments, one down for 30 s", processes: 4, start: "balanced",
      deployments: [{ name: "a", requestsPerMinute: 300 }, { name: "b", requestsPerMinute: 300 }, { name: "c", requestsPerMinute: 300 }],
      outage: { deployment: 0, atProcessed: 0.2, seconds: 30 },
    },
  ];
}

/** Runs one scenario on a fresh stack and fresh model servers; `seconds` is the backlog, in seconds of the summed quota. */
export async function measureFleet(scenario: FleetScenario, seconds: number, timeLimitSeconds: number, log: (line: string) => void): Promise<FleetRun> {
  const quotaPerSecond = scenario.deployments.reduce((sum, d) => sum + d.requestsPerMinute / 60, 0);
  const events = generateEvents(Math.round(quotaPerSecond * seconds), FLEET_PARTITIONS, 11 + scenario.id.length);
  const servers = await Promise.all(
    scenario.deployments.map((d) => FakeModelServer.start({ quota: { requestsPerMinute: d.requestsPerMinute }, latency: LATENCY, completionTokens: OUTPUT_TOKENS })),
  );
  const stack = await startLocalStack({ config: { hubs: [{ name: HUB, partitionCount: FLEET_PARTITIONS, consumerGroups: ["ai-workers"] }], maxMemoryBytes: 2 * 1024 ** 3 } });
  const env = {
    ...stack.env(),
    EVENTHUB_NAME: HUB,
    PROCESSOR: "model",
    MODEL_DEPLOYMENTS: JSON.stringify(
      scenario.deployments.map((d, i) => ({
        name: d.name, provider: "azure-openai", endpoint: servers[i]!.endpoint, deployment: "triage", apiKeyEnv: "BENCH_MODEL_KEY",
        requestsPerMinute: d.requestsPerMinute, priority: d.priority ?? 0,
      })),
    ),
    BENCH_MODEL_KEY: "bench",
    ...(process.env.BENCH_WORKER_LOGS ? { LOG_LEVEL: "debug" } : {}),
    MODEL_MAX_OUTPUT_TOKENS: String(OUTPUT_TOKENS),
  };
  const firstResultAt = new Map<string, number>();
  let duplicates = 0;
  const latencies: number[] = [];
  const workers: BenchWorker[] = [];
  // BENCH_WORKER_LOGS=<dir> keeps every replica's log, results and shares, for finding out why a scenario went as it did.
  const logDir = process.env.BENCH_WORKER_LOGS;
  const startWorker = () => {
    const name = `w${workers.length}`;
    const worker = new BenchWorker({
      name,
      env,
      ...(logDir ? { onStderrLine: (line: string) => appendFileSync(join(logDir, `${scenario.id}-${name}.log`), `${line}\n`) } : {}),
      onResultLine: (line, receivedAtMs) => {
        const { partitionId, sequenceNumber, enqueuedTimeUtc } = JSON.parse(line) as { partitionId: string; sequenceNumber: number; enqueuedTimeUtc: string };
        if (logDir) appendFileSync(join(logDir, `${scenario.id}-${name}.results`), `${receivedAtMs} ${partitionId} ${sequenceNumber}\n`);
        const key = `${partitionId}:${sequenceNumber}`;
        if (firstResultAt.has(key)) duplicates++;
        else {
          firstResultAt.set(key, receivedAtMs);
          latencies.push(receivedAtMs - Date.parse(enqueuedTimeUtc));
        }
      },
    });
    workers.push(worker);
    return worker;
  };
  const sendBacklog = async () => {
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
    await sendAll(producer, events);
    await producer.close();
  };
  const deadLetters = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(DEAD_LETTER_CONTAINER);
  const countDeadLetters = async () => {
    let count = 0;
    for await (const _ of deadLetters.listBlobsFlat()) count++;
    return count;
  };
  try {
    if (scenario.start === "balanced") {
      const first = Array.from({ length: scenario.processes }, startWorker);
      await Promise.all(first.map((w) => w.started(90_000)));
      const even = FLEET_PARTITIONS / scenario.processes;
      let owned: number[] = [];
      await waitFor(
        "the workers to share the partitions evenly",
        async () => {
          owned = await Promise.all(first.map(async (w) => (await w.status()).ownedPartitions.length));
          return owned.every((n) => n === even);
        },
        120_000,
        () => owned.join(", "),
      );
      await sendBacklog();
    } else {
      await sendBacklog();
      await Promise.all(Array.from({ length: scenario.processes }, startWorker).map((w) => w.started(90_000)));
    }
    const started = Date.now();
    const deadline = started + timeLimitSeconds * 1000;
    let changed = false;
    let outageAt: number | undefined;
    let dead = 0;
    while (Date.now() < deadline) {
      dead = await countDeadLetters().catch(() => dead);
      const done = firstResultAt.size + dead;
      if (done >= events.length) break;
      const progress = done / events.length;
      if (scenario.change && !changed && progress >= scenario.change.atProcessed) {
        changed = true;
        const { add = 0, stop = 0 } = scenario.change;
        if (add > 0) log(`    adding ${add} replicas at ${(progress * 100).toFixed(0)}%`);
        for (let i = 0; i < add; i++) startWorker();
        if (stop > 0) {
          log(`    stopping ${stop} replicas with SIGTERM at ${(progress * 100).toFixed(0)}%`);
          void Promise.all(workers.slice(0, stop).map((w) => w.stop()));
        }
      }
      if (scenario.outage && outageAt === undefined && progress >= scenario.outage.atProcessed) {
        outageAt = Date.now();
        servers[scenario.outage.deployment]!.outage(scenario.outage.seconds * 1000);
        log(`    deployment "${scenario.deployments[scenario.outage.deployment]!.name}" answers 503 for ${scenario.outage.seconds} s from ${(progress * 100).toFixed(0)}%`);
      }
      if (logDir) {
        const shares = await Promise.all(workers.map((w) => w.counter("worker_model_share_requests_per_second").catch(() => -1)));
        const rates = await Promise.all(workers.map((w) => w.counter("worker_model_request_rate_limit").catch(() => -1)));
        appendFileSync(join(logDir, `${scenario.id}-shares.log`), `${Date.now()} ${shares.map((x) => x.toFixed(2)).join(" ")} | ${rates.map((x) => x.toFixed(2)).join(" ")} | ${done}\n`);
      }
      await sleep(250);
    }
    const elapsed = (Date.now() - started) / 1000;
    dead = await countDeadLetters();
    return summarize(scenario, servers, quotaPerSecond, events.length, { processed: firstResultAt.size, duplicates, deadLettered: dead, latencies, seconds: elapsed, outageAt });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all([stack.stop(), ...servers.map((s) => s.close())]);
  }
}

function summarize(
  scenario: FleetScenario,
  servers: FakeModelServer[],
  quotaPerSecond: number,
  events: number,
  measured: { processed: number; duplicates: number; deadLettered: number; latencies: number[]; seconds: number; outageAt: number | undefined },
): FleetRun {
  const requests = servers.flatMap((s) => s.requests);
  const ok = requests.filter((r) => r.status === 200);
  const first = Math.min(...requests.map((r) => r.arrivedAt));
  const last = Math.max(...ok.map((r) => r.arrivedAt));
  const span = Math.max((last - first) / 1000, 1e-3);
  // The quota that was there to use: a deployment that is down offers none of its quota meanwhile.
  const downSeconds = scenario.outage && measured.outageAt !== undefined ? Math.min(scenario.outage.seconds, Math.max(0, (last - measured.outageAt) / 1000)) : 0;
  const downQuota = scenario.outage ? scenario.deployments[scenario.outage.deployment]!.requestsPerMinute / 60 : 0;
  const available = quotaPerSecond * span - downQuota * downSeconds;
  const timeline = Object.fromEntries(
    servers.map((server, i) => [
      scenario.deployments[i]!.name,
      Array.from({ length: Math.ceil(span) + 1 }, (_, second) => server.requests.filter((r) => r.status === 200 && Math.floor((r.arrivedAt - first) / 1000) === second).length),
    ]),
  );
  return {
    id: scenario.id,
    label: scenario.label,
    events,
    quotaPerSecond,
    goodputShare: (ok.length - 1) / available,
    throttledPerSuccess: requests.filter((r) => r.status === 429).length / Math.max(1, ok.length),
    callsPerEvent: ok.length / Math.max(1, measured.processed),
    duplicates: measured.duplicates,
    processed: measured.processed,
    deadLettered: measured.deadLettered,
    lost: Math.max(0, events - measured.processed - measured.deadLettered),
    seconds: measured.seconds,
    latency: summarizeLatency(measured.latencies.length > 0 ? measured.latencies : [0]),
    timeline,
  };
}
