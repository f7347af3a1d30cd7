// Receiver start positions: parses the `apache.org:selector-filter:string` expressions the SDK sends
// (spec §5.2), e.g. `amqp.annotation.x-opt-offset > '-1'` or `amqp.annotation.x-opt-enqueued-time > '1700000000000'`.

export type EventPosition =
  /** "-1" = earliest, "@latest" = after the last event at attach time, else a decimal byte offset we issued. */
  | { kind: "offset"; offset: string; inclusive: boolean }
  | { kind: "sequenceNumber"; sequenceNumber: number; inclusive: boolean }
  | { kind: "enqueuedTime"; timeMs: number; inclusive: boolean };

/** A filter the broker cannot honour; the message is meant for the client (condition amqp:invalid-field or argument-error). */
export class PositionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PositionError";
  }
}

export const EARLIEST_OFFSET = "-1";
export const LATEST_OFFSET = "@latest";

const EXPRESSION = /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/i;
const INTEGER = /^-?\d+$/;

function integerValue(text: string, what: string, minimum: number): number {
  const value = Number(text);
  if (!INTEGER.test(text) || !Number.isSafeInteger(value) || value < minimum) {
    throw new PositionError(`The supplied ${what} '${text}' is invalid: expected a whole number >= ${minimum}.`);
  }
  return value;
}

export function parseSelectorFilter(expression: string): EventPosition {
  const match = EXPRESSION.exec(expression);
  if (!match) {
    throw new PositionError(
      `Unsupported filter expression '${expression}': expected amqp.annotation.<x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time> <'>'|'>='> '<value>'.`,
    );
  }
  const [, field = "", operator, value = ""] = match;
  const inclusive = operator === ">=";
  switch (field.toLowerCase()) {
    case "x-opt-offset":
      if (value === EARLIEST_OFFSET || value === LATEST_OFFSET) return { kind: "offset", offset: value, inclusive };
      return { kind: "offset", offset: String(integerValue(value, "offset", 0)), inclusive };
    case "x-opt-sequence-number":
      return { kind: "sequenceNumber", sequenceNumber: integerValue(value, "sequence number", -1), inclusive };
    default:
      return { kind: "enqueuedTime", timeMs: integerValue(value, "enqueued time", Number.MIN_SAFE_INTEGER), inclusive };
  }
}
