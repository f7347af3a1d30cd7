// `npm run bench [-- --quick]`: the worker measured the way its users would judge it, against baselines
// run in the same process tree: raw receive, the processor alone, the official SDK sample pattern.
// Writes latest.json, latest.md and latest.svg (bench/results/ for the reference run: results-dir.ts); prints
// the Markdown.
import { resolve } from "node:path";
import { renderChart } from "./chart";
import { describeMachine, PARTITIONS } from "./local-hub";
import { parseBenchOptions, type BenchOptions } from "./options";
import { writeResults } from "./results-dir";
import { evaluateTargets, toMarkdown, type BenchReport, type ConfigurationResult } from "./report";
import { runIdleBurst, type IdleBurstRun } from "./scenarios/idle-burst";
import { runReceiveFloor, type LatencyRun, type ReceiveFloorRun } from "./scenarios/latency";
import { runLatencyInChild } from "./scenarios/latency-child";
import { eventsPerSecond, runThroughputRepetition, type ThroughputRepetition } from "./scenarios/throughput";
import { spread } from "./stats";
import { generateEvents, meanBodyBytes } from "./workload";
import { plural } from "../common/plural";

const startedAt = performance.now();
const log = (line: string) => process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const mb = (bytes: number) => bytes / 1024 / 1024;

type Measured = { events: number; seconds: number; peakRssBytes: number; cpuSeconds: number; machineIdleShare: number };

function measuredOver(runs: Measured[]): Omit<ConfigurationResult, "id" | "label" | "how"> {
  return {
    eventsPerSecond: spread(runs.map(eventsPerSecond)),
    peakRssMb: spread(runs.map((r) => mb(r.peakRssBytes))),
    cpuUsPerEvent: spread(runs.map(cpuUsPerEvent)),
    machineIdle: spread(runs.map((r) => r.machineIdleShare)),
  };
}

const cpuUsPerEvent = (m: Measured) => (m.events > 0 ? (m.cpuSeconds / m.events) * 1e6 : Number.NaN);

function configurations(runs: ThroughputRepetition[]): ConfigurationResult[] {
  const of = (pick: (r: ThroughputRepetition) => Measured) => measuredOver(runs.map(pick));
  const threads = runs[0]!.threads;
  const oneThread = runs.flatMap((r) => (r.processorOneThread ? [r.processorOneThread] : []));
  return [
    { id: "raw-receive", label: "1. raw receive (SDK, no processing)", how: "subscribe, worker's batch/prefetch, no checkpoints", ...of((r) => r.raw) },
    { id: "processor-only", label: `2. text-insights processor alone, ${plural(threads, "thread")}`, how: "startTextInsights, the worker's threads and node flags, bodies as received, no Event Hubs", ...of((r) => r.processor) },
    ...(oneThread.length > 0
      ? [{ id: "processor-one-thread" as const, label: "2b. the same on 1 thread", how: "as 2 with PROCESSOR_THREADS=1", ...measuredOver(oneThread) }]
      : []),
    { id: "sdk-sample", label: "3. SDK sample pattern", how: "inline processing, checkpoint every batch, SDK defaults (batch 1)", ...of((r) => r.sample) },
    { id: "sdk-sample-batched", label: "3b. SDK sample, worker's batch size", how: "as 3 with the worker's batch 100 / prefetch 300", ...of((r) => r.sampleBatched) },
    { id: "worker", label: "4. our worker (defaults)", how: "npm run worker as a child process, SINK=stdout", ...of((r) => r.worker) },
  ];
}

/** The middle run by p99 (the upper middle of an even number). */
function medianByP99<T extends { latency: { p99: number } }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.latency.p99 - b.latency.p99)[Math.floor(runs.length / 2)]!;
}

/** Events per second if every core did nothing but the analysis, at the processor alone's CPU cost per event. */
const machineLimit = (cpus: number, r: ThroughputRepetition) => cpus / (r.processor.cpuSeconds / r.processor.events);

/** What each processing thread beyond the first adds to the processor alone's peak RSS (same events, same process otherwise). */
const extraThreadMb = (r: ThroughputRepetition) => mb(r.processor.peakRssBytes - r.processorOneThread!.peakRssBytes) / (r.threads - 1);

/** The throughput repetitions, on one backlog generated here (about 50 MB of heap for 100,000 events), dropped after them. */
async function measureThroughput(options: BenchOptions, childEnv: Record<string, string>): Promise<{ runs: ThroughputRepetition[]; workload: { events: number; meanBodyBytes: number } }> {
  const events = generateEvents(options.eventsPerPartition * PARTITIONS, PARTITIONS);
  const workload = { events: events.length, meanBodyBytes: Math.round(meanBodyBytes(events)) };
  log(`${workload.events} events (${options.text} text), ${workload.meanBodyBytes} B on average, ${plural(options.runs, "repetition")}`);
  const runs: ThroughputRepetition[] = [];
  for (let run = 1; run <= options.runs; run++) {
    log(`throughput, repetition ${run}/${options.runs}`);
    runs.push(await runThroughputRepetition(events, { sampleTimeLimitMs: options.sampleTimeLimitSeconds * 1000, timeLimitMs: 300_000, childEnv }, log));
  }
  return { runs, workload };
}

async function main(options: BenchOptions): Promise<void> {
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const childEnv: Record<string, string> = options.cpuProfileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${resolve(options.cpuProfileDir)}` } : {};
  process.env.BENCH_TEXT = options.text; // read by generateEvents, here and in the processor-only child
  const { runs, workload } = await measureThroughput(options, childEnv);
  // One latency run per repetition: the target holds for every run, not for one.
  const latencyRuns: LatencyRun[] = [];
  const receiveFloorRuns: ReceiveFloorRun[] = [];
  const latencySettings = { rate: options.latencyRate, seconds: options.latencySeconds, warmUpSeconds: options.warmUpSeconds, workerEnv: childEnv };
  for (let run = 1; run <= options.runs; run++) {
    log(`latency at ${options.latencyRate} events/s for ${options.latencySeconds} s, run ${run}/${options.runs}`);
    const latency = await runLatencyInChild(latencySettings, log);
    log(`  p50 ${latency.latency.p50.toFixed(1)} ms, p99 ${latency.latency.p99.toFixed(1)} ms`);
    latencyRuns.push(latency);
    log(`receive-only latency floor at ${options.latencyRate} events/s, run ${run}/${options.runs}`);
    const receiveFloor = await runReceiveFloor(latencySettings);
    log(`  p50 ${receiveFloor.latency.p50.toFixed(1)} ms, p99 ${receiveFloor.latency.p99.toFixed(1)} ms`);
    receiveFloorRuns.push(receiveFloor);
  }

  const idleBurst: IdleBurstRun[] = [];
  if (options.idleBurst) {
    const burst = { burstPerPartition: options.burstPerPartition, timeLimitMs: 180_000, workerEnv: childEnv };
    // The control run (no idle) shows what the burst alone costs; a quick run skips it.
    for (const idleSeconds of options.quick ? [options.idleSeconds] : [0, options.idleSeconds]) {
      log(`idle ${idleSeconds} s, then ${options.burstPerPartition} events per partition`);
      const run = await runIdleBurst({ idleSeconds, ...burst });
      log(`  RSS ${Math.round(mb(run.rssBeforeBurstBytes))} MB before, peak ${Math.round(mb(run.peakRssBytes))} MB, lost ${run.lost}`);
      idleBurst.push(run);
    }
  }

  const machine = describeMachine();
  const latency = medianByP99(latencyRuns);
  const measuredOneThread = runs.every((r) => r.processorOneThread);
  const partial: Omit<BenchReport, "targets"> = {
    benchmark: "worker",
    date: new Date().toISOString(),
    command,
    machine,
    workload: { ...workload, partitions: PARTITIONS, repetitions: options.runs, processorThreads: runs[0]!.threads },
    configurations: configurations(runs),
    ratios: {
      speedupOverBatchedSample: spread(runs.map((r) => eventsPerSecond(r.worker) / eventsPerSecond(r.sampleBatched))),
      speedup: spread(runs.map((r) => eventsPerSecond(r.worker) / eventsPerSecond(r.sample))),
      efficiency: spread(runs.map((r) => eventsPerSecond(r.worker) / machineLimit(machine.cpus, r))),
      workerOverProcessorAlone: spread(runs.map((r) => eventsPerSecond(r.worker) / eventsPerSecond(r.processor))),
      ...(measuredOneThread ? { processorThreadScaling: spread(runs.map((r) => eventsPerSecond(r.processor) / eventsPerSecond(r.processorOneThread!))) } : {}),
    },
    machineLimit: spread(runs.map((r) => machineLimit(machine.cpus, r))),
    ...(measuredOneThread ? { processorExtraThreadMb: spread(runs.map(extraThreadMb)) } : {}),
    latency,
    latencyRuns: latencyRuns.map(({ latency: { p50, p99, max } }) => ({ p50, p99, max })),
    receiveFloor: medianByP99(receiveFloorRuns),
    backlog: { eventsPerPartition: options.eventsPerPartition, workerPeakRssMb: spread(runs.map((r) => mb(r.worker.peakRssBytes))) },
    checkpoints: {
      workerDrainPerSecond: spread(runs.map((r) => r.worker.checkpointsWritten / Math.max(r.worker.seconds, 1e-9))),
      workerSteadyPerSecond: latency.checkpointsPerSecond,
      samplePerSecond: spread(runs.map((r) => r.sample.checkpoints / Math.max(r.sample.seconds, 1e-9))),
      sampleBatchedPerSecond: spread(runs.map((r) => r.sampleBatched.checkpoints / Math.max(r.sampleBatched.seconds, 1e-9))),
    },
    idleBurst,
  };
  const report: BenchReport = { ...partial, targets: evaluateTargets(partial) };
  const markdown = toMarkdown(report);
  const wrote = await writeResults(options.outDir, { "latest.json": `${JSON.stringify(report, null, 2)}\n`, "latest.md": markdown, "latest.svg": renderChart(report) });
  process.stdout.write(markdown);
  log(wrote);
}

main(parseBenchOptions(process.argv.slice(2))).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
