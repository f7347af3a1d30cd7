// `npm run bench` options, validated once; --quick swaps in small defaults for a smoke run under a minute.
import { Command } from "commander";
import { z } from "zod";
import { optionsOrExit, wholeNumber } from "../common/cli";
import { resultsDirectory } from "./results-dir";
import type { BenchText } from "./workload";

export interface BenchOptions {
  quick: boolean;
  runs: number;
  eventsPerPartition: number;
  latencyRate: number;
  latencySeconds: number;
  warmUpSeconds: number;
  sampleTimeLimitSeconds: number;
  idleSeconds: number;
  burstPerPartition: number;
  idleBurst: boolean;
  text: BenchText;
  /** bench/results for the reference run (`npm run bench`, nothing changed), else scratch, unless --out. */
  outDir: string;
  /** When set, every child process (worker and baselines) writes a V8 CPU profile here. */
  cpuProfileDir: string | undefined;
}

const FULL = { runs: 3, eventsPerPartition: 25_000, latencySeconds: 20, warmUpSeconds: 2, sampleTimeLimitSeconds: 20, idleSeconds: 30, burstPerPartition: 10_000 };
const LATENCY_RATE = 1000;
/** The committed results' run: `npm run bench` with every option at its default. */
const REFERENCE = { ...FULL, quick: false, latencyRate: LATENCY_RATE, idleBurst: true, text: "repetitive", cpuProfileDir: undefined };
const QUICK = { runs: 1, eventsPerPartition: 2_500, latencySeconds: 6, warmUpSeconds: 1, sampleTimeLimitSeconds: 4, idleSeconds: 5, burstPerPartition: 2_000 };

const schema = z.object({
  quick: z.boolean(),
  runs: wholeNumber(1, 20).optional(),
  eventsPerPartition: wholeNumber(100, 1_000_000).optional(),
  latencyRate: wholeNumber(1, 100_000),
  latencySeconds: wholeNumber(2, 600).optional(),
  warmUpSeconds: wholeNumber(0, 60).optional(),
  sampleTimeLimitSeconds: wholeNumber(1, 600).optional(),
  idleSeconds: wholeNumber(0, 600).optional(),
  burstPerPartition: wholeNumber(1, 1_000_000).optional(),
  idleBurst: z.boolean(),
  text: z.enum(["repetitive", "varied"]),
  out: z.string().min(1).optional(),
  cpuProf: z.string().min(1).optional(),
});

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const command = new Command("bench")
    .description("Throughput, latency, memory and checkpoint rate of the worker against baselines, on the local emulator + Azurite.")
    .option("--quick", "small smoke run (under a minute)", false)
    .option("--runs <n>", `repetitions of the throughput comparison (default ${FULL.runs}, quick ${QUICK.runs})`)
    .option("--events-per-partition <n>", `backlog per partition (default ${FULL.eventsPerPartition}, quick ${QUICK.eventsPerPartition})`)
    .option("--latency-rate <events/s>", "offered load of the latency run", String(LATENCY_RATE))
    .option("--latency-seconds <s>", `length of the latency run (default ${FULL.latencySeconds}, quick ${QUICK.latencySeconds})`)
    .option("--warm-up-seconds <s>", `start of the latency run left out (default ${FULL.warmUpSeconds}, quick ${QUICK.warmUpSeconds})`)
    .option("--sample-time-limit-seconds <s>", `measuring window of the SDK-sample configurations (default ${FULL.sampleTimeLimitSeconds}, quick ${QUICK.sampleTimeLimitSeconds})`)
    .option("--idle-seconds <s>", `idle time before the burst (default ${FULL.idleSeconds}, quick ${QUICK.idleSeconds})`)
    .option("--burst-per-partition <n>", `burst size per partition (default ${FULL.burstPerPartition}, quick ${QUICK.burstPerPartition})`)
    .option("--no-idle-burst", "skip the idle-then-burst runs")
    .option("--text <kind>", "repetitive: sample messages as they are; varied: each also carries unique tokens (ids, hex), as real text does", "repetitive")
    .option("--out <dir>", "where latest.json/.md/.svg go (default: bench/results for the reference run, bench/results/scratch for any other)")
    .option("--cpu-prof <dir>", "write a V8 CPU profile of every child process (worker, baselines) to <dir>");
  const o = optionsOrExit({ command, schema, argv, title: "Invalid bench options" });
  const base = o.quick ? QUICK : FULL;
  const options = {
    quick: o.quick,
    runs: o.runs ?? base.runs,
    eventsPerPartition: o.eventsPerPartition ?? base.eventsPerPartition,
    latencyRate: o.latencyRate,
    latencySeconds: o.latencySeconds ?? base.latencySeconds,
    warmUpSeconds: o.warmUpSeconds ?? base.warmUpSeconds,
    sampleTimeLimitSeconds: o.sampleTimeLimitSeconds ?? base.sampleTimeLimitSeconds,
    idleSeconds: o.idleSeconds ?? base.idleSeconds,
    burstPerPartition: o.burstPerPartition ?? base.burstPerPartition,
    idleBurst: o.idleBurst,
    text: o.text,
    cpuProfileDir: o.cpuProf,
  };
  return { ...options, outDir: resultsDirectory(o.out, options, REFERENCE) };
}
