import type { ResultRecord } from "../../worker/sinks/sink";

/** What a reader of a sink's output gets for the record: its fields, with the result as parsed JSON. */
export function asWritten(record: ResultRecord): Record<string, unknown> {
  const { resultJson, ...fields } = record;
  return { ...fields, result: JSON.parse(resultJson) as unknown };
}
