// What `npm run dev` shows: a per-partition table redrawn in place on a terminal, a short line every few
// seconds otherwise, and the final summary.
import { plural } from "../../common/plural";

export interface PartitionProgress {
  partitionId: string;
  sent: number;
  /** Distinct sequence numbers with a result. */
  processed: number;
  /** Result lines beyond the first per sequence number (at-least-once replays). */
  duplicates: number;
  deadLettered: number;
  checkpoint: number | undefined;
  owner: string;
}

export interface ProgressSnapshot {
  elapsedSeconds: number;
  target: number;
  sent: number;
  partitions: PartitionProgress[];
  workers: Array<{ name: string; owned: string[]; results: number; running: boolean; lastError?: string }>;
  /** Events finished (processed or dead-lettered) per second over the last few seconds. */
  throughput: number;
}

const BAR_WIDTH = 20;

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH)) : 0;
  return `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
}

const pad = (value: string | number, width: number) => String(value).padEnd(width);
const padLeft = (value: string | number, width: number) => String(value).padStart(width);

function totals(snapshot: ProgressSnapshot) {
  const sum = (pick: (p: PartitionProgress) => number) => snapshot.partitions.reduce((total, p) => total + pick(p), 0);
  return { processed: sum((p) => p.processed), dead: sum((p) => p.deadLettered), duplicates: sum((p) => p.duplicates) };
}

export function renderTable(snapshot: ProgressSnapshot): string[] {
  const { processed, dead } = totals(snapshot);
  const lines = [
    `local Event Hubs + Azurite · ${plural(snapshot.workers.length, "worker")} · ${snapshot.elapsedSeconds.toFixed(1)} s`,
    `sent ${snapshot.sent}/${snapshot.target} · processed ${processed} · dead-lettered ${dead} · ${snapshot.throughput.toFixed(0)} events/s`,
    "",
    `${pad("partition", 10)}${pad("owner", 10)}${padLeft("sent", 7)}${padLeft("done", 7)}${padLeft("dead", 6)}${padLeft("checkpoint", 12)}  progress`,
  ];
  for (const p of snapshot.partitions) {
    const done = p.processed + p.deadLettered;
    lines.push(
      `${pad(p.partitionId, 10)}${pad(p.owner || "-", 10)}${padLeft(p.sent, 7)}${padLeft(done, 7)}${padLeft(p.deadLettered, 6)}${padLeft(p.checkpoint ?? "-", 12)}  ${bar(done, p.sent)}`,
    );
  }
  lines.push("");
  for (const w of snapshot.workers) {
    const state = w.running ? `owns ${w.owned.join(",") || "nothing yet"}` : "stopped";
    lines.push(`${pad(w.name, 10)}${state} · ${plural(w.results, "result")}${w.lastError ? ` · last error: ${w.lastError}` : ""}`);
  }
  return lines;
}

export function renderLine(snapshot: ProgressSnapshot): string {
  const { processed, dead } = totals(snapshot);
  const perPartition = snapshot.partitions.map((p) => `p${p.partitionId}:${p.processed + p.deadLettered}/${p.sent}`).join(" ");
  return `[${snapshot.elapsedSeconds.toFixed(0)}s] sent ${snapshot.sent}/${snapshot.target} processed ${processed} dead-lettered ${dead} ${snapshot.throughput.toFixed(0)}/s | ${perPartition}`;
}

/** Redraws in place on a TTY; elsewhere prints one line per `lineEveryMs`. */
export class ProgressDisplay {
  private drawnLines = 0;
  private lastLineAt = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly lineEveryMs = 5000,
  ) {}

  get interactive(): boolean {
    return Boolean(this.out.isTTY);
  }

  update(snapshot: ProgressSnapshot): void {
    if (this.interactive) {
      const lines = renderTable(snapshot);
      // Move up over the previous frame and clear it, then draw the new one.
      const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : "";
      this.out.write(`${up}\x1b[J${lines.join("\n")}\n`);
      this.drawnLines = lines.length;
      return;
    }
    if (Date.now() - this.lastLineAt < this.lineEveryMs) return;
    this.lastLineAt = Date.now();
    this.out.write(`${renderLine(snapshot)}\n`);
  }
}

export function renderSummary(snapshot: ProgressSnapshot, details: { processingSeconds: number; files: string[] }): string {
  const { processed, dead, duplicates } = totals(snapshot);
  const done = processed + dead;
  const lines = [
    "",
    `Summary after ${snapshot.elapsedSeconds.toFixed(1)} s`,
    `${pad("partition", 10)}${padLeft("sent", 7)}${padLeft("processed", 11)}${padLeft("dead-lettered", 15)}${padLeft("duplicates", 12)}${padLeft("checkpoint", 12)}`,
  ];
  for (const p of snapshot.partitions) {
    lines.push(
      `${pad(p.partitionId, 10)}${padLeft(p.sent, 7)}${padLeft(p.processed, 11)}${padLeft(p.deadLettered, 15)}${padLeft(p.duplicates, 12)}${padLeft(p.checkpoint ?? "-", 12)}`,
    );
  }
  lines.push(`${pad("total", 10)}${padLeft(snapshot.sent, 7)}${padLeft(processed, 11)}${padLeft(dead, 15)}${padLeft(duplicates, 12)}`);
  const missing = snapshot.sent - done;
  lines.push(
    "",
    `throughput: ${details.processingSeconds > 0 ? (done / details.processingSeconds).toFixed(0) : "-"} events/s (${plural(done, "event")} in ${details.processingSeconds.toFixed(1)} s from first to last result)`,
    missing > 0 ? `not finished: ${plural(missing, "event")} left unprocessed when the run stopped (the local emulator keeps events in memory only, so they end with this run)` : "every sent event was processed or dead-lettered",
    ...snapshot.workers.map((w) => `${w.name}: ${plural(w.results, "result line")}`),
    ...details.files.map((file) => `written: ${file}`),
  );
  return `${lines.join("\n")}\n`;
}
