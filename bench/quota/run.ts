// `npm run bench:quota [-- --quick]`: AI processing at the speed of a remote model's quota. A local model
// server enforces an Azure-style quota (requests per minute over 1 s windows, 429 + retry-after-ms, remaining
// headers; about 300 ms an answer); the same backlog is drained by the SDK sample pattern, a naive parallel
// handler and the worker with its defaults (1, 2 and 4 processes sharing the quota, which they learn from 429s).
// Then the fleet scenarios (fleet.ts): replicas that know the quota (MODEL_DEPLOYMENTS) and coordinate, 2 to 8 of
// them, started together, scaled out and in, over several deployments, one of them down. The quota is the
// physical limit: goodput is reported as a share of it, measured at the server (answers 200 per second between
// the first request and the last success). Writes quota.{json,md,svg} (bench/results/ for the reference run:
// results-dir.ts); prints the Markdown.
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient } from "@azure/event-hubs";
import { Command } from "commander";
import { z } from "zod";
import type { LocalStack } from "../../emulator/index";
import { DEFAULT_SYSTEM_PROMPT } from "../../worker/processing/model/model-settings";
import { waitFor } from "../../tools/wait-for";
import { optionsOrExit, wholeNumber } from "../../common/cli";
import { FakeModelServer } from "../fake-model-server";
import { describeMachine, HUB, PARTITIONS, SAMPLE_CONSUMER_GROUP, startBenchStack } from "../local-hub";
import { spread, summarizeLatency, type LatencySummary, type Spread } from "../stats";
import { resultsDirectory, writeResults } from "../results-dir";
import { BenchWorker } from "../worker-process";
import { generateEvents, sendAll } from "../workload";
import { startBaseline, type BaselineKind } from "./consumers";
import { renderQuotaChart } from "./chart";
import { fleetScenarios, measureFleet, type FleetRun } from "./fleet";

const OUTPUT_TOKENS = 50;
/** ~300 ms an answer: 100 ms plus 4 ms per completion token. */
const LATENCY = { baseMs: 100, perCompletionTokenMs: 4 };
const QUOTAS = { tight: 600, generous: 6000 } as const; // requests per minute
/** The committed results' run: `npm run bench:quota -- --runs 3`. */
const REFERENCE = { quick: false, runs: 3, seconds: 30, only: undefined };
type QuotaName = keyof typeof QUOTAS;
type Consumer = { kind: BaselineKind } | { kind: "worker"; processes: number; task?: "embeddings" };

export interface QuotaRun {
  id: string;
  label: string;
  quota: QuotaName;
  requestsPerSecondQuota: number;
  events: number;
  goodputShare: number;
  throttledPerSuccess: number;
  succeededRequests: number;
  processed: number;
  deadLettered: number;
  lost: number;
  unfinished: number;
  seconds: number;
  requestsPerEvent: number;
  /** What the model server answered, per second from the first request: 200s and 429s. */
  timeline: { ok: number[]; throttled: number[] };
}

const CONFIGURATIONS: Array<{ id: string; label: string; quota: QuotaName; consumer: Consumer }> = [
  { id: "sample-tight", label: "SDK sample pattern (await each call)", quota: "tight", consumer: { kind: "sdk-sample" } },
  { id: "naive-tight", label: "naive parallel handler (Promise.all)", quota: "tight", consumer: { kind: "naive-parallel" } },
  { id: "worker-tight", label: "worker, 1 process", quota: "tight", consumer: { kind: "worker", processes: 1 } },
  { id: "worker4-tight", label: "worker, 4 processes", quota: "tight", consumer: { kind: "worker", processes: 4 } },
  { id: "sample-generous", label: "SDK sample pattern (await each call)", quota: "generous", consumer: { kind: "sdk-sample" } },
  { id: "naive-generous", label: "naive parallel handler (Promise.all)", quota: "generous", consumer: { kind: "naive-parallel" } },
  { id: "worker-generous", label: "worker, 1 process", quota: "generous", consumer: { kind: "worker", processes: 1 } },
  { id: "worker2-generous", label: "worker, 2 processes", quota: "generous", consumer: { kind: "worker", processes: 2 } },
  { id: "worker4-generous", label: "worker, 4 processes", quota: "generous", consumer: { kind: "worker", processes: 4 } },
  { id: "embeddings-generous", label: "worker, embeddings task", quota: "generous", consumer: { kind: "worker", processes: 1, task: "embeddings" } },
];

const startedAt = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

async function measure(config: (typeof CONFIGURATIONS)[number], seconds: number, timeLimitSeconds: number): Promise<QuotaRun> {
  const perSecond = QUOTAS[config.quota] / 60;
  const events = generateEvents(Math.round(perSecond * seconds), PARTITIONS, 7 + config.id.length);
  const server = await FakeModelServer.start({ quota: { requestsPerMinute: QUOTAS[config.quota] }, latency: LATENCY, completionTokens: OUTPUT_TOKENS });
  const stack = await startBenchStack();
  const sendBacklog = async () => {
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
    await sendAll(producer, events);
    await producer.close();
  };
  try {
    const consumed = await consume(config.consumer, stack, server, events.length, timeLimitSeconds, sendBacklog);
    const ok = server.requests.filter((r) => r.status === 200);
    const first = Math.min(...server.requests.map((r) => r.arrivedAt));
    const last = Math.max(...ok.map((r) => r.arrivedAt));
    const span = Math.max((last - first) / 1000, 1e-3);
    const eachSecond = (status: number) =>
      Array.from({ length: Math.ceil(span) + 1 }, (_, i) => server.requests.filter((r) => r.status === status && Math.floor((r.arrivedAt - first) / 1000) === i).length);
    return {
      id: config.id,
      label: config.label,
      quota: config.quota,
      requestsPerSecondQuota: perSecond,
      events: events.length,
      goodputShare: (ok.length - 1) / span / perSecond,
      throttledPerSuccess: server.count(429) / Math.max(ok.length, 1),
      succeededRequests: ok.length,
      processed: consumed.processed,
      deadLettered: consumed.deadLettered,
      lost: consumed.lost,
      unfinished: Math.max(0, events.length - consumed.processed - consumed.deadLettered - consumed.lost),
      seconds: consumed.seconds,
      requestsPerEvent: server.requests.length / Math.max(consumed.processed, 1),
      timeline: { ok: eachSecond(200), throttled: eachSecond(429) },
    };
  } finally {
    await Promise.all([stack.stop(), server.close()]);
  }
}

/**
 * Runs one consumer configuration over the backlog. The worker processes start, and share the partitions
 * out between them, before the backlog is sent: the benchmark measures processes sharing a quota, not the
 * replays of a cold start's rebalancing. The baselines are single processes and read it after it is sent.
 */
async function consume(consumer: Consumer, stack: LocalStack, server: FakeModelServer, total: number, timeLimitSeconds: number, sendBacklog: () => Promise<void>) {
  if (consumer.kind !== "worker") await sendBacklog();
  let started = Date.now();
  let deadline = started + timeLimitSeconds * 1000;
  if (consumer.kind !== "worker") {
    const run = await startBaseline(consumer.kind, {
      stack, hub: HUB, consumerGroup: SAMPLE_CONSUMER_GROUP, modelEndpoint: server.endpoint, deployment: "triage",
      systemPrompt: DEFAULT_SYSTEM_PROMPT, maxOutputTokens: OUTPUT_TOKENS,
    });
    while (run.results.length + run.failed < total && Date.now() < deadline) await sleep(200);
    await run.stop();
    return { processed: run.results.length, deadLettered: 0, lost: run.failed, seconds: (Date.now() - started) / 1000 };
  }
  const seen = new Set<string>();
  const workers = Array.from({ length: consumer.processes }, (_, i) =>
    new BenchWorker({
      name: `worker-${i}`,
      env: {
        ...stack.env(),
        PROCESSOR: "azure-openai",
        AZURE_OPENAI_ENDPOINT: server.endpoint,
        AZURE_OPENAI_DEPLOYMENT: "triage",
        AZURE_OPENAI_API_KEY: "bench",
        MODEL_MAX_OUTPUT_TOKENS: String(OUTPUT_TOKENS),
        ...(consumer.task === "embeddings" ? { MODEL_TASK: "embeddings" } : {}),
      },
      onResultLine: (line) => {
        const { partitionId, sequenceNumber } = JSON.parse(line) as { partitionId: string; sequenceNumber: number };
        seen.add(`${partitionId}:${sequenceNumber}`);
      },
    }),
  );
  const deadLettered = async () => (await Promise.all(workers.map((w) => w.counter("worker_events_dead_lettered_total").catch(() => 0)))).reduce((a, b) => a + b, 0);
  try {
    await Promise.all(workers.map((w) => w.started(60_000)));
    let owned: string[][] = [];
    const balanced = async () => {
      owned = await Promise.all(workers.map(async (w) => (await w.status()).ownedPartitions));
      return owned.every((partitions) => partitions.length === PARTITIONS / consumer.processes);
    };
    await waitFor("the workers to share the partitions evenly", balanced, 120_000, () => workers.map((w, i) => `${w.name}: ${owned[i]?.join(",") ?? "?"}`).join("; "));
    await sendBacklog();
    started = Date.now();
    deadline = started + timeLimitSeconds * 1000;
    while (seen.size + (await deadLettered()) < total && Date.now() < deadline) await sleep(200);
    const dead = await deadLettered();
    return { processed: seen.size, deadLettered: dead, lost: 0, seconds: (Date.now() - started) / 1000 };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** The worker at 70% of the tight quota: enqueued-to-result latency when the quota is not the bottleneck. */
async function measureLatency(seconds: number): Promise<LatencySummary> {
  const perSecond = (QUOTAS.tight / 60) * 0.7;
  const events = generateEvents(Math.round(perSecond * seconds), PARTITIONS, 99);
  const server = await FakeModelServer.start({ quota: { requestsPerMinute: QUOTAS.tight }, latency: LATENCY, completionTokens: OUTPUT_TOKENS });
  const stack = await startBenchStack();
  const samples: number[] = [];
  const worker = new BenchWorker({
    name: "worker-latency",
    env: { ...stack.env(), PROCESSOR: "azure-openai", AZURE_OPENAI_ENDPOINT: server.endpoint, AZURE_OPENAI_DEPLOYMENT: "triage", AZURE_OPENAI_API_KEY: "bench", MODEL_MAX_OUTPUT_TOKENS: String(OUTPUT_TOKENS) },
    onResultLine: (line, receivedAtMs) => {
      const { enqueuedTimeUtc } = JSON.parse(line) as { enqueuedTimeUtc: string };
      samples.push(receivedAtMs - Date.parse(enqueuedTimeUtc));
    },
  });
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
  try {
    await worker.started(60_000);
    const paceStart = Date.now();
    for (const [i, event] of events.entries()) {
      await producer.sendBatch([{ body: event.body, contentType: "application/json" }], { partitionId: event.partitionId });
      await sleep(Math.max(0, paceStart + (i + 1) * (1000 / perSecond) - Date.now()));
    }
    const deadline = Date.now() + 30_000;
    while (samples.length < events.length && Date.now() < deadline) await sleep(200);
    return summarizeLatency(samples);
  } finally {
    await producer.close();
    await worker.stop();
    await Promise.all([stack.stop(), server.close()]);
  }
}

export interface QuotaReport {
  benchmark: "quota";
  date: string;
  command: string;
  machine: ReturnType<typeof describeMachine>;
  model: { latency: typeof LATENCY; outputTokens: number; quotasPerMinute: typeof QUOTAS; windowMs: number };
  repetitions: number;
  runs: Array<Omit<QuotaRun, "goodputShare" | "throttledPerSuccess" | "requestsPerEvent"> & { goodputShare: Spread; throttledPerSuccess: Spread; requestsPerEvent: Spread }>;
  latencyAt70PercentOfTightQuota: LatencySummary;
  /** The fleet scenarios: the median run (by goodput) with every measure's spread over the repetitions. */
  fleet: Array<FleetRun & { spreads: Record<"goodputShare" | "throttledPerSuccess" | "callsPerEvent" | "p50" | "p99", Spread> }>;
}

async function main(): Promise<void> {
  const command = new Command("bench:quota")
    .description("Goodput against a remote model's quota: the worker versus the SDK sample pattern and a naive parallel handler, on a local model server with an Azure-style quota.")
    .option("--quick", "short runs (10 s of backlog, 1 repetition)", false)
    .option("--runs <n>", "repetitions of each configuration", "1")
    .option("--seconds <s>", "backlog size, in seconds of the quota", "30")
    .option("--only <ids>", "comma-separated configuration ids to run")
    .option("--out <dir>", "where quota.json/.md/.svg go (default: bench/results for the reference run, --runs 3 and nothing else; bench/results/scratch for any other)");
  const fleet = fleetScenarios();
  const ids = [...CONFIGURATIONS.map((c) => c.id), ...fleet.map((f) => f.id)];
  // An id that names no configuration is a typo, not a request to run nothing.
  const only = z
    .string()
    .transform((raw) => raw.split(",").map((id) => id.trim()))
    .refine((list) => list.every((id) => ids.includes(id)), `allowed: configuration ids separated by commas: ${ids.join(", ")}`);
  const schema = z.object({ quick: z.boolean(), runs: wholeNumber(1, 10), seconds: wholeNumber(5, 600), only: only.optional(), out: z.string().min(1).optional() });
  const options = optionsOrExit({ command, schema, title: "Invalid bench:quota options" });
  const seconds = options.quick ? 10 : options.seconds;
  const selected = CONFIGURATIONS.filter((c) => !options.only || options.only.includes(c.id));
  const runs: QuotaReport["runs"] = [];
  for (const config of selected) {
    const repetitions: QuotaRun[] = [];
    for (let r = 1; r <= options.runs; r++) {
      log(`${config.id}, repetition ${r}/${options.runs}`);
      const run = await measure(config, seconds, seconds * 4);
      log(`  goodput ${(run.goodputShare * 100).toFixed(1)}% of the quota, ${run.throttledPerSuccess.toFixed(3)} 429s per success, ${run.processed}/${run.events} processed, ${run.deadLettered} dead-lettered, ${run.lost} lost`);
      repetitions.push(run);
    }
    const median = repetitions.map((r) => r).sort((a, b) => a.goodputShare - b.goodputShare)[Math.floor(repetitions.length / 2)] as QuotaRun;
    runs.push({
      ...median,
      goodputShare: spread(repetitions.map((r) => r.goodputShare)),
      throttledPerSuccess: spread(repetitions.map((r) => r.throttledPerSuccess)),
      requestsPerEvent: spread(repetitions.map((r) => r.requestsPerEvent)),
    });
  }
  const fleetRuns: QuotaReport["fleet"] = [];
  for (const scenario of fleet.filter((f) => !options.only || options.only.includes(f.id))) {
    const repetitions: FleetRun[] = [];
    for (let r = 1; r <= options.runs; r++) {
      log(`${scenario.id}, repetition ${r}/${options.runs}`);
      // Twice the backlog: the ends of a drain (replicas starting, the last partitions finishing one by one)
      // would otherwise weigh as much as the fleet's steady use of the quota.
      const run = await measureFleet(scenario, 2 * seconds, 8 * seconds, log);
      log(`  goodput ${(run.goodputShare * 100).toFixed(1)}% of the quota, ${run.throttledPerSuccess.toFixed(3)} 429s per success, ${run.callsPerEvent.toFixed(3)} calls per event, ${run.processed}/${run.events} processed, ${run.deadLettered} dead-lettered, ${run.lost} lost`);
      repetitions.push(run);
    }
    const median = [...repetitions].sort((a, b) => a.goodputShare - b.goodputShare)[Math.floor(repetitions.length / 2)] as FleetRun;
    const of = (read: (run: FleetRun) => number) => spread(repetitions.map(read));
    fleetRuns.push({
      ...median,
      spreads: { goodputShare: of((r) => r.goodputShare), throttledPerSuccess: of((r) => r.throttledPerSuccess), callsPerEvent: of((r) => r.callsPerEvent), p50: of((r) => r.latency.p50), p99: of((r) => r.latency.p99) },
    });
  }
  const measureBaselineLatency = !options.only || options.only.some((id) => CONFIGURATIONS.some((c) => c.id === id));
  log("latency at 70% of the tight quota");
  const latency = measureBaselineLatency ? await measureLatency(options.quick ? 10 : 20) : summarizeLatency([0]);
  const report: QuotaReport = {
    benchmark: "quota",
    date: new Date().toISOString(),
    command: `npm run bench:quota${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    machine: describeMachine(),
    model: { latency: LATENCY, outputTokens: OUTPUT_TOKENS, quotasPerMinute: QUOTAS, windowMs: 1000 },
    repetitions: options.runs,
    runs,
    latencyAt70PercentOfTightQuota: latency,
    fleet: fleetRuns,
  };
  const markdown = quotaMarkdown(report);
  const outDir = resultsDirectory(options.out, options, REFERENCE);
  const wrote = await writeResults(outDir, { "quota.json": `${JSON.stringify(report, null, 2)}\n`, "quota.md": markdown, "quota.svg": renderQuotaChart(report) });
  process.stdout.write(markdown);
  log(wrote);
}

const pct = (s: Spread) => (s.values.length > 1 ? `${(s.median * 100).toFixed(1)}% (${(s.min * 100).toFixed(1)}-${(s.max * 100).toFixed(1)})` : `${(s.median * 100).toFixed(1)}%`);
const num = (s: Spread, digits: number) => (s.values.length > 1 ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})` : s.median.toFixed(digits));

export function quotaMarkdown(report: QuotaReport): string {
  const lines = [
    `# Quota benchmark (${report.date.slice(0, 10)})`,
    "",
    `\`${report.command}\` on ${report.machine.cpus} CPUs, Node ${report.machine.node}. A local model server with an Azure-style quota (requests per minute enforced over ${report.model.windowMs / 1000} s windows, 429 with retry-after-ms, x-ratelimit-remaining-* headers), ${report.model.latency.baseMs} ms + ${report.model.latency.perCompletionTokenMs} ms per completion token (${report.model.outputTokens} tokens: ~${report.model.latency.baseMs + report.model.latency.perCompletionTokenMs * report.model.outputTokens} ms an answer). Quotas: tight ${report.model.quotasPerMinute.tight} requests/min (${report.model.quotasPerMinute.tight / 60}/s), generous ${report.model.quotasPerMinute.generous}/min (${report.model.quotasPerMinute.generous / 60}/s). Each configuration drains the same backlog (30 s of its quota) on 4 partitions; worker processes share the partitions out before it is sent. ${report.repetitions} repetition(s), median (min-max).`,
    "",
    "| Quota | Configuration | goodput / quota | 429s per success | processed | good events dead-lettered | lost (failed, skipped) | not reached in 4x the time | requests per event |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...report.runs.map((r) => `| ${r.quota} | ${r.label} | ${pct(r.goodputShare)} | ${num(r.throttledPerSuccess, 3)} | ${r.processed}/${r.events} | ${r.deadLettered} | ${r.lost} | ${r.unfinished} | ${num(r.requestsPerEvent, 3)} |`),
    "",
    `Worker latency at 70% of the tight quota (enqueued to result line, ${report.latencyAt70PercentOfTightQuota.samples} events): p50 ${report.latencyAt70PercentOfTightQuota.p50.toFixed(0)} ms, p99 ${report.latencyAt70PercentOfTightQuota.p99.toFixed(0)} ms, max ${report.latencyAt70PercentOfTightQuota.max.toFixed(0)} ms.`,
    "",
    "Goodput is measured at the model server: answers with status 200 per second between the first request and the last success, divided by the quota. Embeddings pack many events per request, so their goodput counts requests, not events.",
    "",
    ...fleetMarkdown(report),
    "![goodput as a share of the quota](quota.svg)",
    "",
  ];
  return lines.join("\n");
}

function fleetMarkdown(report: QuotaReport): string[] {
  if (report.fleet.length === 0) return [];
  return [
    "## Fleet: replicas that know the quota and coordinate",
    "",
    "Worker processes of one consumer group with `PROCESSOR=model`; `MODEL_DEPLOYMENTS` declares each deployment's `requestsPerMinute`, as the stack does, and the replicas divide it through their fleet records. An 8-partition hub, so 8 replicas each own one, and twice the backlog (the ends of a drain weigh less). Goodput is answers 200 per second over the quota that was available (a deployment that is down offers none meanwhile); calls per event counts answers 200, so a call paid twice shows; latency is from enqueued to result, so in a backlog it is mostly the wait in the backlog.",
    "",
    "| Scenario | goodput / quota | 429s per success | model calls per event | p50 / p99 latency (s) | processed | good events dead-lettered | lost |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...report.fleet.map(
      (r) =>
        `| ${r.label} | ${pct(r.spreads.goodputShare)} | ${num(r.spreads.throttledPerSuccess, 3)} | ${num(r.spreads.callsPerEvent, 3)} | ${(r.spreads.p50.median / 1000).toFixed(1)} / ${(r.spreads.p99.median / 1000).toFixed(1)} | ${r.processed}/${r.events} | ${r.deadLettered} | ${r.lost} |`,
    ),
    "",
  ];
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:quota failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
