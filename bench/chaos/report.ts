// The chaos run as text: the faults injected, then the per-partition verdict table.
import { FAULT_DESCRIPTIONS, FAULT_KINDS } from "./faults";
import type { ChaosOutcome } from "./harness";
import type { PartitionVerdict } from "./verdict";
import { plural } from "../../common/plural";

const COLUMNS: Array<[keyof Omit<PartitionVerdict, "partitionId">, string]> = [
  ["sent", "sent"],
  ["processed", "processed"],
  ["duplicated", "duplicated"],
  ["lost", "lost"],
  ["reordered", "reordered"],
  ["corrupted", "corrupted"],
  ["misrouted", "misrouted"],
  ["poisonSent", "poison sent"],
  ["deadLettered", "dead-lettered"],
  ["poisonLost", "poison lost"],
  ["misDeadLettered", "mis-dead-lettered"],
];

export function renderChaosReport(outcome: ChaosOutcome): string {
  const lines: string[] = [];
  const { verdict } = outcome;
  lines.push(`chaos run ${outcome.runId}: ${plural(outcome.sent, "event")} (${outcome.poisonSent} poison), ${plural(outcome.options.workers, "worker")} (${plural(outcome.workerInstances, "process lifetime")})`);
  const counts = FAULT_KINDS.map((kind) => `${kind} x${outcome.faults.filter((f) => f.kind === kind).length}`);
  lines.push(`faults: ${counts.join(", ")}`);
  for (const kind of FAULT_KINDS) if (outcome.options.faults.includes(kind)) lines.push(`  ${kind}: ${FAULT_DESCRIPTIONS[kind]}`);
  lines.push(`drain: ${outcome.drained ? "every event accounted for" : "TIMED OUT"} after ${outcome.drainSeconds.toFixed(1)} s; result lines that did not parse: ${outcome.truncatedLines}`);
  lines.push("");
  const header = ["partition", ...COLUMNS.map(([, title]) => title)];
  const rows = [...verdict.partitions.map((p) => [p.partitionId, ...COLUMNS.map(([key]) => String(p[key]))]), ["all", ...COLUMNS.map(([key]) => String(verdict.totals[key]))]];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  lines.push(format(header), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(format));
  const byFault = Object.entries(outcome.duplicatesByFault).map(([kind, count]) => `${kind} ${count}`);
  lines.push("", `duplicates by the fault that caused them (the end of the process that wrote the first copy, else the last fault before): ${byFault.join(", ") || "none"} (${((verdict.totals.duplicated / Math.max(1, outcome.sent)) * 100).toFixed(2)}% of the events sent)`);
  lines.push(`producer duplicates (same event stored twice by send retries): ${verdict.duplicateSends}; unknown records: ${verdict.unknown}`);
  lines.push(`VERDICT: ${verdict.ok ? "PASS" : "FAIL"}`);
  for (const example of verdict.examples) lines.push(`  - ${example}`);
  return `${lines.join("\n")}\n`;
}
