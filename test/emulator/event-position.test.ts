import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PositionError, parseSelectorFilter } from "../../emulator/event-position";

describe("parseSelectorFilter", () => {
  it.each([
    ["amqp.annotation.x-opt-offset > '-1'", { kind: "offset", offset: "-1", inclusive: false }],
    ["amqp.annotation.x-opt-offset > '@latest'", { kind: "offset", offset: "@latest", inclusive: false }],
    ["amqp.annotation.x-opt-offset > '4242'", { kind: "offset", offset: "4242", inclusive: false }],
    ["amqp.annotation.x-opt-offset >= '0'", { kind: "offset", offset: "0", inclusive: true }],
    ["amqp.annotation.x-opt-sequence-number > '7'", { kind: "sequenceNumber", sequenceNumber: 7, inclusive: false }],
    ["amqp.annotation.x-opt-sequence-number >= '7'", { kind: "sequenceNumber", sequenceNumber: 7, inclusive: true }],
    ["amqp.annotation.x-opt-sequence-number > '-1'", { kind: "sequenceNumber", sequenceNumber: -1, inclusive: false }],
    ["amqp.annotation.x-opt-enqueued-time > '1700000000000'", { kind: "enqueuedTime", timeMs: 1700000000000, inclusive: false }],
    ["amqp.annotation.x-opt-enqueued-time >= '5'", { kind: "enqueuedTime", timeMs: 5, inclusive: true }],
  ])("parses %s", (expression, expected) => {
    expect(parseSelectorFilter(expression)).toEqual(expected);
  });

  it("reads the exact strings the SDK builds for every EventPosition kind", () => {
    // The filter builder is internal to the SDK (blocked by "exports"); load the shipped file by its path.
    const sdkRoot = path.dirname(require.resolve("@azure/event-hubs/package.json"));
    const { getEventPositionFilter } = createRequire(__filename)(path.join(sdkRoot, "dist/commonjs/eventPosition.js")) as {
      getEventPositionFilter(position: Record<string, unknown>): string;
    };
    const when = new Date("2024-05-01T10:00:00.123Z");
    const cases: [Record<string, unknown>, unknown][] = [
      [{ offset: "-1" }, { kind: "offset", offset: "-1", inclusive: false }],
      [{ offset: "@latest" }, { kind: "offset", offset: "@latest", inclusive: false }],
      [{ offset: "1234", isInclusive: true }, { kind: "offset", offset: "1234", inclusive: true }],
      [{ sequenceNumber: 9 }, { kind: "sequenceNumber", sequenceNumber: 9, inclusive: false }],
      [{ sequenceNumber: 9, isInclusive: true }, { kind: "sequenceNumber", sequenceNumber: 9, inclusive: true }],
      [{ enqueuedOn: when }, { kind: "enqueuedTime", timeMs: when.getTime(), inclusive: false }],
      [{ enqueuedOn: when.getTime(), isInclusive: true }, { kind: "enqueuedTime", timeMs: when.getTime(), inclusive: false }],
    ];
    for (const [position, expected] of cases) expect(parseSelectorFilter(getEventPositionFilter(position))).toEqual(expected);
  });

  it.each([
    ["", /Unsupported filter expression/],
    ["amqp.annotation.x-opt-partition-key > 'a'", /Unsupported filter expression/],
    ["amqp.annotation.x-opt-offset < '5'", /Unsupported filter expression/],
    ["amqp.annotation.x-opt-offset > 5", /Unsupported filter expression/],
    ["amqp.annotation.x-opt-offset > 'abc'", /offset 'abc' is invalid/],
    ["amqp.annotation.x-opt-offset > '-2'", /offset '-2' is invalid/],
    ["amqp.annotation.x-opt-sequence-number > '1.5'", /sequence number '1.5' is invalid/],
    ["amqp.annotation.x-opt-sequence-number > '-2'", /sequence number '-2' is invalid/],
    ["amqp.annotation.x-opt-enqueued-time > 'yesterday'", /enqueued time 'yesterday' is invalid/],
    ["amqp.annotation.x-opt-sequence-number > '99999999999999999999'", /is invalid/],
  ])("rejects %j", (expression, message) => {
    expect(() => parseSelectorFilter(expression)).toThrow(PositionError);
    expect(() => parseSelectorFilter(expression)).toThrow(message);
  });
});
