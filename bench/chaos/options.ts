// `npm run chaos` options, validated once.
import { Command } from "commander";
import { z } from "zod";
import { decimal, optionsOrExit, wholeNumber } from "../../common/cli";
import { resultsDirectory } from "../results-dir";
import { FAULT_KINDS, type FaultKind } from "./faults";
import type { ChaosOptions } from "./harness";

const faultList = z.string().transform((raw, ctx): FaultKind[] => {
  const names = raw.split(",").map((name) => name.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === "all") return [...FAULT_KINDS];
  if (names.length === 1 && names[0] === "none") return [];
  const unknown = names.filter((name) => !(FAULT_KINDS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    ctx.addIssue({ code: "custom", message: `unknown fault(s) ${unknown.join(", ")}; allowed: all, none, or a comma list of ${FAULT_KINDS.join(", ")}` });
    return z.NEVER;
  }
  return names as FaultKind[];
});

const schema = z.object({
  duration: wholeNumber(5, 86_400),
  workers: wholeNumber(1, 16),
  rate: wholeNumber(1, 20_000),
  faults: faultList,
  faultInterval: decimal(0.5, 3600),
  poisonRatio: decimal(0, 1),
  seed: wholeNumber(0, 2 ** 31),
  drainTimeout: wholeNumber(5, 3600),
  partitions: wholeNumber(1, 32),
  out: z.string().min(1).optional(),
});

/** The committed results' run: `npm run chaos -- --duration 120 --workers 3 --rate 200 --faults all --fault-interval 5`. */
const REFERENCE = { durationSeconds: 120, workers: 3, rate: 200, faults: [...FAULT_KINDS], faultIntervalSeconds: 5, poisonRatio: 0.02, seed: 1, partitions: 4 };

export function parseChaosOptions(argv: readonly string[]): ChaosOptions & { outDir: string } {
  const command = new Command("chaos")
    .description("Correctness under faults: stamped events, several real workers, faults on a schedule; per-partition verdict. Exits 1 on any loss, corruption, reordering or mis-dead-lettering.")
    .option("--duration <s>", "seconds of traffic", "60")
    .option("--workers <n>", "worker processes", "3")
    .option("--rate <events/s>", "offered load", "200")
    .option("--faults <mix>", `all, none, or a comma list of ${FAULT_KINDS.join(", ")}`, "all")
    .option("--fault-interval <s>", "seconds between faults (they cycle through the mix)", "5")
    .option("--poison-ratio <share>", "share of poison events (JSON without text)", "0.02")
    .option("--seed <n>", "seed for bodies and poison placement", "1")
    .option("--drain-timeout <s>", "longest wait for every event to be accounted for after traffic stops", "90")
    .option("--partitions <n>", "partitions of the hub", "4")
    .option("--out <dir>", "where chaos-latest.json goes (default: bench/results for the reference run, bench/results/scratch for any other)");
  const o = optionsOrExit({ command, schema, argv, title: "Invalid chaos options" });
  const options: ChaosOptions = {
    durationSeconds: o.duration,
    workers: o.workers,
    rate: o.rate,
    faults: o.faults,
    faultIntervalSeconds: o.faultInterval,
    poisonRatio: o.poisonRatio,
    seed: o.seed,
    drainTimeoutSeconds: o.drainTimeout,
    partitions: o.partitions,
    restartAfterMs: 1000,
    azuriteDownMs: 1500,
    modelOutageMs: 5000,
  };
  return { ...options, outDir: resultsDirectory(o.out, options, REFERENCE) };
}
