// Which dead letters an operation applies to. The same filters come from CLI flags and from the explorer's
// query parameters, as strings, and are validated once here; each problem names the filter and what is allowed.
import { z } from "zod";
import type { DeadLetterEntry, ReplayState } from "./entry";

export const REPLAY_STATES = ["pending", "in-flight", "replayed", "all"] as const;

export interface DeadLetterFilter {
  /** Only these partitions; undefined = all. */
  partitions?: string[];
  /** deadLetteredAt at or after / before. */
  since?: Date;
  until?: Date;
  /** Case-insensitive substring of the error name or message. */
  errorText?: string;
  state: (typeof REPLAY_STATES)[number];
  limit: number;
}

/** The raw, string form: CLI flags and query parameters share these names. */
export interface RawFilter {
  partition?: string;
  since?: string;
  until?: string;
  error?: string;
  state?: string;
  limit?: string;
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 time, or a duration back from `now` such as 90s, 15m, 2h, 7d. */
function parseTime(raw: string, now: Date): Date | undefined {
  const relative = /^(\d+)([smhd])$/.exec(raw.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * (UNITS_MS[relative[2] ?? "s"] ?? 0));
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw.trim())) return undefined;
  const time = new Date(raw.trim());
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const time = (now: Date) =>
  z.string().transform((raw, ctx) => {
    const parsed = parseTime(raw, now);
    if (parsed === undefined) {
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(raw)}: allowed: an ISO 8601 time (2026-01-31T08:00:00Z) or a duration ago (90s, 15m, 2h, 7d)` });
      return z.NEVER;
    }
    return parsed;
  });

const schema = (now: Date, defaultState: DeadLetterFilter["state"]) =>
  z
    .object({
      partition: z
        .string()
        .regex(/^\d+(,\d+)*$/, "allowed: partition ids separated by commas, e.g. 0,3")
        .transform((raw) => raw.split(","))
        .optional(),
      since: time(now).optional(),
      until: time(now).optional(),
      error: z.string().min(1, "allowed: a non-empty text").optional(),
      state: z.enum(REPLAY_STATES, { message: `allowed: ${REPLAY_STATES.join(" | ")}` }).default(defaultState),
      limit: z.coerce
        .number({ message: "allowed: an integer from 1 to 100000" })
        .int("allowed: an integer from 1 to 100000")
        .min(1, "allowed: an integer from 1 to 100000")
        .max(100_000, "allowed: an integer from 1 to 100000")
        .default(1000),
    })
    .superRefine((f, ctx) => {
      if (f.since && f.until && f.since > f.until) ctx.addIssue({ code: "custom", path: ["until"], message: "must not be before --since" });
    });

/** Problems are "<name>: <message>"; `nameOf` turns a filter name into the flag or parameter the user typed. */
export function parseFilter(
  raw: RawFilter,
  options: { now?: Date; defaultState?: DeadLetterFilter["state"]; nameOf?: (name: string) => string } = {},
): { filter: DeadLetterFilter } | { problems: string[] } {
  const nameOf = options.nameOf ?? ((name: string) => `--${name}`);
  const result = schema(options.now ?? new Date(), options.defaultState ?? "all").safeParse(raw);
  if (!result.success) return { problems: result.error.issues.map((issue) => `${nameOf(String(issue.path[0]))}: ${issue.message}`) };
  const f = result.data;
  return {
    filter: {
      state: f.state,
      limit: f.limit,
      ...(f.partition ? { partitions: f.partition } : {}),
      ...(f.since ? { since: f.since } : {}),
      ...(f.until ? { until: f.until } : {}),
      ...(f.error ? { errorText: f.error } : {}),
    },
  };
}

/** True when any filter beyond the defaults was given: replay and purge refuse to act on "everything" by accident. */
export function narrows(raw: RawFilter): boolean {
  return [raw.partition, raw.since, raw.until, raw.error, raw.state].some((value) => value !== undefined);
}

function stateMatches(wanted: DeadLetterFilter["state"], state: ReplayState["state"]): boolean {
  return wanted === "all" || wanted === state;
}

export function matches(filter: DeadLetterFilter, entry: DeadLetterEntry): boolean {
  const { record } = entry;
  const deadLetteredAt = new Date(record.deadLetteredAt);
  const errorText = `${record.error.name}: ${record.error.message}`.toLowerCase();
  return (
    (filter.partitions === undefined || filter.partitions.includes(record.partitionId)) &&
    (filter.since === undefined || deadLetteredAt >= filter.since) &&
    (filter.until === undefined || deadLetteredAt < filter.until) &&
    (filter.errorText === undefined || errorText.includes(filter.errorText.toLowerCase())) &&
    stateMatches(filter.state, entry.replay.state)
  );
}
