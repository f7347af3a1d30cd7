// The benchmark's report: one JSON document (bench/results/latest.json) and its Markdown rendering
// (latest.md). The chart is drawn by chart.ts from the same document.
import { plural } from "../common/plural";
import type { IdleBurstRun } from "./scenarios/idle-burst";
import type { LatencyRun, ReceiveFloorRun } from "./scenarios/latency";
import type { Spread } from "./stats";

export interface ConfigurationResult {
  id: "raw-receive" | "processor-only" | "processor-one-thread" | "sdk-sample" | "sdk-sample-batched" | "worker";
  label: string;
  eventsPerSecond: Spread;
  peakRssMb: Spread;
  /** The configuration's own CPU time (all its threads) per event, in microseconds. */
  cpuUsPerEvent: Spread;
  /** Share of the machine's CPU time left idle while it ran (every process counted: the emulator and Azurite too). */
  machineIdle: Spread;
  /** How the configuration runs, in one line. */
  how: string;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  benchmark: "worker";
  date: string;
  command: string;
  machine: { cpus: number; node: string; platform: string };
  workload: { events: number; partitions: number; meanBodyBytes: number; repetitions: number; processorThreads: number };
  configurations: ConfigurationResult[];
  ratios: {
    /** The headline: the worker over the SDK sample pattern run with the worker's batch settings. */
    speedupOverBatchedSample: Spread;
    speedup: Spread;
    /** The worker over the machine's limit: its cores' worth of events at the processor's own CPU cost per event. */
    efficiency: Spread;
    workerOverProcessorAlone: Spread;
    /** The processor alone, the worker's thread count over one thread (when the worker runs more than one). */
    processorThreadScaling?: Spread;
  };
  /** Events per second the machine could reach if every core did only the analysis: cores / the processor alone's CPU per event. */
  machineLimit: Spread;
  /** The processor alone: peak RSS added by each thread beyond the first (when the worker runs more than one). */
  processorExtraThreadMb?: Spread;
  /** The latency run with the median p99, and every run's (one per repetition). */
  latency: LatencyRun;
  latencyRuns: Array<Pick<LatencyRun["latency"], "p50" | "p99" | "max">>;
  /** The same load read by configuration 1 (SDK receive, no processing): the floor under the worker's latency. */
  receiveFloor: ReceiveFloorRun;
  backlog: { eventsPerPartition: number; workerPeakRssMb: Spread };
  checkpoints: { workerDrainPerSecond: Spread; workerSteadyPerSecond: number; samplePerSecond: Spread; sampleBatchedPerSecond: Spread };
  idleBurst: IdleBurstRun[];
  targets: Target[];
}

const round = (value: number, digits = 0) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);
const number = (value: number, digits = 0) => round(value, digits).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const showSpread = (s: Spread, digits = 0, unit = "") =>
  s.values.length > 1 ? `${number(s.median, digits)}${unit} (${number(s.min, digits)}-${number(s.max, digits)})` : `${number(s.median, digits)}${unit}`;
const megabytes = (bytes: number) => bytes / 1024 / 1024;

export function evaluateTargets(report: Omit<BenchReport, "targets">): Target[] {
  const { ratios, latencyRuns, backlog } = report;
  const worker = report.configurations.find((c) => c.id === "worker");
  const worstP99 = Math.max(...latencyRuns.map((run) => run.p99));
  const targets: Target[] = [
    { name: "worker / SDK sample pattern with the worker's batch settings", target: ">= 1.3x", measured: showSpread(ratios.speedupOverBatchedSample, 2, "x"), met: ratios.speedupOverBatchedSample.median >= 1.3 },
    { name: "speedup = worker / SDK sample pattern", target: ">= 1.6x", measured: showSpread(ratios.speedup, 1, "x"), met: ratios.speedup.median >= 1.6 },
  ];
  if (worker) {
    const idle = worker.machineIdle;
    targets.push({ name: "machine idle while the worker drains", target: "<= 10%", measured: showSpread(percent(idle), 0, "%"), met: idle.median <= 0.1 });
  }
  if (ratios.processorThreadScaling) {
    const scaling = ratios.processorThreadScaling;
    targets.push({ name: `processor alone, ${report.workload.processorThreads} threads / 1 thread`, target: ">= 1.7x", measured: showSpread(scaling, 2, "x"), met: scaling.median >= 1.7 });
  }
  if (report.processorExtraThreadMb) {
    const extra = report.processorExtraThreadMb;
    targets.push({ name: "processor alone, peak RSS of each thread beyond the first", target: "< 50 MB", measured: showSpread(extra, 0, " MB"), met: extra.median < 50 });
  }
  targets.push(
    { name: `p99 end-to-end latency at ${number(report.latency.offeredRate)} events/s, every run`, target: "<= 50 ms", measured: latencyRuns.map((run) => `${number(run.p99, 1)} ms`).join(", "), met: worstP99 <= 50 },
    { name: `peak worker RSS draining ${number(backlog.eventsPerPartition)} events per partition`, target: "<= 300 MB", measured: showSpread(backlog.workerPeakRssMb, 0, " MB"), met: backlog.workerPeakRssMb.median <= 300 },
  );
  return targets;
}

const percent = (s: Spread): Spread => ({ median: s.median * 100, min: s.min * 100, max: s.max * 100, values: s.values.map((v) => v * 100) });

export function toMarkdown(report: BenchReport): string {
  const { workload, latency } = report;
  const lines: string[] = [];
  lines.push(`# Worker benchmark (${report.date.slice(0, 10)})`, "");
  lines.push(`\`${report.command}\` on ${report.machine.cpus} CPUs, Node ${report.machine.node}. ` +
    `${number(workload.events)} events (${number(workload.meanBodyBytes)} B JSON customer messages on average) over ${workload.partitions} partitions, ` +
    `local emulator + Azurite; ${workload.repetitions} repetition(s), median (min-max). Processor threads: ${workload.processorThreads}.`, "");
  lines.push("## Throughput", "", "| Configuration | events/s | CPU per event | machine idle | peak RSS | How |", "|---|---:|---:|---:|---:|---|");
  for (const c of report.configurations) {
    lines.push(`| ${c.label} | ${showSpread(c.eventsPerSecond)} | ${showSpread(c.cpuUsPerEvent, 0, " µs")} | ${showSpread(percent(c.machineIdle), 0, "%")} | ${showSpread(c.peakRssMb, 0, " MB")} | ${c.how} |`);
  }
  lines.push("", "CPU per event: the configuration's own process, all its threads (the emulator and Azurite run in the benchmark's process and are not counted). " +
    "Machine idle: the whole machine, every process, over the configuration's measured window.");
  const { ratios } = report;
  lines.push("", "| Ratio | Value |", "|---|---:|");
  lines.push(`| **worker / SDK sample pattern with the worker's batch settings** | **${showSpread(ratios.speedupOverBatchedSample, 2, "x")}** |`);
  lines.push(`| speedup = worker / SDK sample pattern | ${showSpread(ratios.speedup, 1, "x")} |`);
  lines.push(`| efficiency = worker / machine limit (${report.machine.cpus} cores / the processor alone's CPU per event: ${showSpread(report.machineLimit)} events/s) | ${showSpread(ratios.efficiency, 3)} |`);
  lines.push(`| worker / processor alone (same threads) | ${showSpread(ratios.workerOverProcessorAlone, 3)} |`);
  if (ratios.processorThreadScaling) lines.push(`| processor alone, ${workload.processorThreads} threads / 1 thread | ${showSpread(ratios.processorThreadScaling, 2, "x")} |`);
  lines.push("", "## Latency", "");
  lines.push(`Offered ${number(latency.offeredRate)} events/s (achieved ${number(latency.achievedRate)}), ${number(latency.latency.samples)} events measured ` +
    `(enqueued time to result line read from the worker's stdout, warm-up excluded). ${plural(report.latencyRuns.length, "run")}, one per repetition; ` +
    `below, the run with the median p99. Every run's p50 / p99 / max: ${report.latencyRuns.map((run) => `${number(run.p50, 1)} / ${number(run.p99, 1)} / ${number(run.max, 1)} ms`).join("; ")}.`, "");
  const floor = report.receiveFloor.latency;
  lines.push("| Reader | p50 | p90 | p99 | max |", "|---|---:|---:|---:|---:|");
  lines.push(`| 4. our worker (result line written) | ${number(latency.latency.p50, 1)} ms | ${number(latency.latency.p90, 1)} ms | ${number(latency.latency.p99, 1)} ms | ${number(latency.latency.max, 1)} ms |`);
  lines.push(`| 1. raw receive, same settings (batch handed to processEvents) | ${number(floor.p50, 1)} ms | ${number(floor.p90, 1)} ms | ${number(floor.p99, 1)} ms | ${number(floor.max, 1)} ms |`);
  lines.push("", `Cross-check from the worker's own histogram (enqueued time to durable result, whole run): ${number(latency.workerSideShareWithin50Ms * 100, 1)}% within 50 ms.`);
  lines.push("", "## Memory and checkpoints", "", "| Measure | Value |", "|---|---:|");
  lines.push(`| worker peak RSS, draining ${number(report.backlog.eventsPerPartition)} events/partition | ${showSpread(report.backlog.workerPeakRssMb, 0, " MB")} |`);
  lines.push(`| worker peak RSS at ${number(latency.offeredRate)} events/s | ${number(megabytes(latency.peakRssBytes))} MB |`);
  if (report.processorExtraThreadMb) lines.push(`| processor alone, peak RSS of each thread beyond the first | ${showSpread(report.processorExtraThreadMb, 0, " MB")} |`);
  lines.push(`| worker checkpoint writes/s while draining | ${showSpread(report.checkpoints.workerDrainPerSecond, 1)} |`);
  lines.push(`| worker checkpoint writes/s at ${number(latency.offeredRate)} events/s | ${number(report.checkpoints.workerSteadyPerSecond, 1)} |`);
  lines.push(`| SDK sample pattern checkpoint writes/s | ${showSpread(report.checkpoints.samplePerSecond, 1)} |`);
  lines.push(`| SDK sample pattern (worker's batch settings) checkpoint writes/s | ${showSpread(report.checkpoints.sampleBatchedPerSecond, 1)} |`);
  if (report.idleBurst.length > 0) {
    lines.push("", "## Idle, then burst", "", "| Idle | Max-wait periods | Burst events | RSS before burst | Peak RSS | Lost | Drain |", "|---:|---:|---:|---:|---:|---:|---:|");
    for (const run of report.idleBurst) {
      lines.push(`| ${number(run.idleSeconds)} s | ${number(run.idlePeriods)} | ${number(run.burstEvents)} | ${number(megabytes(run.rssBeforeBurstBytes))} MB | ${number(megabytes(run.peakRssBytes))} MB | ${number(run.lost)} | ${number(run.drainSeconds, 1)} s |`);
    }
  }
  lines.push("", "## Targets", "", "| Target | Goal | Measured | |", "|---|---|---|---|");
  for (const t of report.targets) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`);
  lines.push("", "![throughput and latency](latest.svg)", "");
  return lines.join("\n");
}
