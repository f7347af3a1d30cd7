// Human-readable output of the dead-letter CLI (the explorer page renders the same entries itself).
import type { ReplayOutcome } from "./replay";
import type { PurgeOutcome } from "./purge";
import type { DeadLetterEntry } from "./entry";
import { plural } from "../../common/plural";

const oneLine = (text: string, width: number) => {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
};

function replayStateText(entry: DeadLetterEntry): string {
  const { replay } = entry;
  if (replay.state === "replayed") return `replayed at ${replay.replayedAt} to ${replay.target} (replay id ${replay.replayId})`;
  if (replay.state === "in-flight") return `in flight since ${replay.claimedAt} to ${replay.target} (replay id ${replay.replayId}; not confirmed sent)`;
  return "pending (never replayed)";
}

export function formatList(entries: DeadLetterEntry[]): string {
  if (entries.length === 0) return "no dead letters match\n";
  const width = Math.max(2, ...entries.map((e) => e.id.length));
  const lines = [`${"id".padEnd(width)}  ${"state".padEnd(9)}  ${"dead-lettered at".padEnd(24)}  error`];
  for (const { id, replay, record } of entries) {
    lines.push(`${id.padEnd(width)}  ${replay.state.padEnd(9)}  ${record.deadLetteredAt.padEnd(24)}  ${oneLine(`${record.error.name}: ${record.error.message}`, 80)}`);
  }
  lines.push(plural(entries.length, "dead letter"));
  return `${lines.join("\n")}\n`;
}

export function formatEntry(entry: DeadLetterEntry): string {
  const { record } = entry;
  const body = record.body.encoding === "json" ? JSON.stringify(record.body.data, null, 2) : String(record.body.data);
  return [
    `id:              ${entry.id}`,
    `position:        partition ${record.partitionId}, sequence number ${record.sequenceNumber}, offset ${record.offset}`,
    `enqueued at:     ${record.enqueuedTimeUtc}`,
    `message id:      ${record.messageId ?? "-"}`,
    `content type:    ${record.contentType ?? "-"}`,
    `partition key:   ${record.partitionKey ?? "-"}`,
    `error:           ${record.error.name}: ${record.error.message} (after ${plural(record.error.attempts, "attempt")})`,
    `dead-lettered:   ${record.deadLetteredAt}`,
    `replay:          ${replayStateText(entry)}`,
    `properties:      ${JSON.stringify(record.properties)}`,
    `body (${record.body.encoding}):`,
    body,
    "",
  ].join("\n");
}

export function formatOutcomes(outcomes: Array<ReplayOutcome | PurgeOutcome>): string {
  const lines = outcomes.map((o) => {
    const extra = "target" in o && o.target ? ` -> ${o.target}` : "";
    const replayId = "replayId" in o && o.replayId ? ` (replay id ${o.replayId})` : "";
    return `${o.result.padEnd(16)} ${o.id}${extra}${replayId}${o.detail ? `: ${o.detail}` : ""}`;
  });
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.result, (counts.get(o.result) ?? 0) + 1);
  lines.push([...counts].map(([result, n]) => `${n} ${result}`).join(", ") || "nothing selected");
  return `${lines.join("\n")}\n`;
}
