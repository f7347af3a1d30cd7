// Turns "these ids" or "these filters" into the dead letters an operation acts on: explicit ids are read one by
// one (an unknown id is an error, not silently skipped), filters list one hub and consumer group.
import { parseFilter, narrows, type DeadLetterFilter, type RawFilter } from "./filter";
import type { DeadLetterEntry } from "./entry";
import { ID_FORMAT, parseDeadLetterId, type DeadLetterId, type DeadLetterStore } from "./store";

export interface Selection {
  ids: string[];
  filter: RawFilter;
  /** Act on every dead letter of the scope when no id or filter is given. */
  all?: boolean;
}

export type ParsedSelection = { ids: DeadLetterId[]; filter: DeadLetterFilter; hasIds: boolean } | { problems: string[] };

/** Validates ids and filters together; `defaultState` is what an operation acts on unless told otherwise. */
export function parseSelection(
  selection: Selection,
  options: { defaultState: DeadLetterFilter["state"]; requireSelection: boolean; nameOf?: (name: string) => string; what?: string },
): ParsedSelection {
  const problems: string[] = [];
  const ids: DeadLetterId[] = [];
  for (const raw of selection.ids) {
    const id = parseDeadLetterId(raw);
    if (id) ids.push(id);
    else problems.push(`dead-letter id ${JSON.stringify(raw)}: allowed: ${ID_FORMAT}`);
  }
  const parsed = parseFilter(selection.filter, { defaultState: options.defaultState, ...(options.nameOf ? { nameOf: options.nameOf } : {}) });
  if ("problems" in parsed) problems.push(...parsed.problems);
  if (options.requireSelection && selection.ids.length === 0 && !narrows(selection.filter) && !selection.all) {
    problems.push(`${options.what ?? "this"} needs a selection: dead-letter ids, a filter (partition, since, until, error, state), or all`);
  }
  if (problems.length > 0 || "problems" in parsed) return { problems };
  return { ids, filter: parsed.filter, hasIds: ids.length > 0 };
}

export async function selectDeadLetters(
  store: DeadLetterStore,
  scope: { eventHubName: string; consumerGroup: string },
  selection: { ids: DeadLetterId[]; filter: DeadLetterFilter },
): Promise<{ entries: DeadLetterEntry[]; missing: string[] }> {
  if (selection.ids.length === 0) return { entries: await store.list(scope, selection.filter), missing: [] };
  const entries: DeadLetterEntry[] = [];
  const missing: string[] = [];
  for (const id of selection.ids) {
    const entry = await store.get(id);
    if (!entry) missing.push(`${id.eventHubName}/${id.consumerGroup}/${id.partitionId}/${id.sequenceNumber}`);
    else if (matchesState(selection.filter, entry)) entries.push(entry);
  }
  return { entries, missing };
}

/** With explicit ids only the state filter applies (purge keeps its "replayed only" default). */
function matchesState(filter: DeadLetterFilter, entry: DeadLetterEntry): boolean {
  return filter.state === "all" || filter.state === entry.replay.state;
}
