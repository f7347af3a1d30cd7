import { describe, expect, it } from "vitest";
import { parseSelectorFilter } from "../../emulator/event-position";
import { PartitionLog, type StoredEvent } from "../../emulator/partition-log";

const event = (text: string, partitionKey?: string) => (partitionKey === undefined ? { bytes: Buffer.from(text) } : { bytes: Buffer.from(text), partitionKey });
const start = (log: PartitionLog, expression: string) => log.startFor(parseSelectorFilter(expression));

/** Log with events of sizes 3, 5, 2, 4 (offsets 0, 3, 8, 10; end 14) at times 1000, 1000, 2000, 3000. */
function sampleLog(): PartitionLog {
  const log = new PartitionLog("0");
  log.append([event("aaa"), event("bbbbb")], 1000);
  log.append([event("cc", "key")], 2000);
  log.append([event("dddd")], 3000);
  return log;
}

describe("PartitionLog appends", () => {
  it("numbers from 0, uses byte positions as offsets and keeps the bytes and key", () => {
    const log = sampleLog();
    const events = log.read(0, 10);
    expect(events.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3]);
    expect(events.map((e) => e.offset)).toEqual([0, 3, 8, 10]);
    expect(events.map((e) => e.enqueuedTimeMs)).toEqual([1000, 1000, 2000, 3000]);
    expect(events[2]?.partitionKey).toBe("key");
    expect(events[0]?.partitionKey).toBeUndefined();
    expect(events[1]?.bytes.toString()).toBe("bbbbb");
    expect(log.lastEnqueued?.sequenceNumber).toBe(3);
    expect(log.beginSequenceNumber).toBe(0);
    expect(log.isEmpty).toBe(false);
    expect(log.retainedBytes).toBe(14);
  });

  it("reports a never-written partition as empty with begin -1", () => {
    const log = new PartitionLog("1");
    expect(log.beginSequenceNumber).toBe(-1);
    expect(log.lastEnqueued).toBeUndefined();
    expect(log.isEmpty).toBe(true);
    expect(log.read(0, 5)).toEqual([]);
  });

  it("never moves enqueued time backwards and stores a batch whole or not at all", () => {
    const log = new PartitionLog("0");
    log.append([event("x")], 5000);
    expect(log.append([event("y")], 4000)[0]?.enqueuedTimeMs).toBe(5000);
    expect(() => log.append([event("ok"), { bytes: Buffer.alloc(0) }], 6000)).toThrow(/no bytes/);
    expect(log.endSequenceNumber).toBe(2);
    expect(log.read(0, 10)).toHaveLength(2);
  });

  it("reads from any sequence number, bounded by max", () => {
    const log = sampleLog();
    expect(log.read(2, 10).map((e) => e.sequenceNumber)).toEqual([2, 3]);
    expect(log.read(1, 2).map((e) => e.sequenceNumber)).toEqual([1, 2]);
    expect(log.read(4, 10)).toEqual([]);
    expect(log.read(0, 0)).toEqual([]);
  });

  it("wakes listeners after each append until they unsubscribe", () => {
    const log = new PartitionLog("0");
    const seen: number[] = [];
    const unsubscribe = log.onAppend(() => seen.push(log.endSequenceNumber));
    log.append([event("a"), event("b")]);
    log.append([event("c")]);
    unsubscribe();
    log.append([event("d")]);
    expect(seen).toEqual([2, 3]);
  });
});

describe("PartitionLog start positions", () => {
  it.each([
    ["amqp.annotation.x-opt-offset > '-1'", 0],
    ["amqp.annotation.x-opt-offset > '@latest'", 4],
    ["amqp.annotation.x-opt-offset > '0'", 1],
    ["amqp.annotation.x-opt-offset >= '0'", 0],
    ["amqp.annotation.x-opt-offset > '8'", 3],
    ["amqp.annotation.x-opt-offset >= '8'", 2],
    ["amqp.annotation.x-opt-offset > '10'", 4],
    ["amqp.annotation.x-opt-offset >= '14'", 4],
    ["amqp.annotation.x-opt-sequence-number > '-1'", 0],
    ["amqp.annotation.x-opt-sequence-number > '1'", 2],
    ["amqp.annotation.x-opt-sequence-number >= '1'", 1],
    ["amqp.annotation.x-opt-sequence-number > '3'", 4],
    ["amqp.annotation.x-opt-sequence-number >= '4'", 4],
    ["amqp.annotation.x-opt-enqueued-time > '999'", 0],
    ["amqp.annotation.x-opt-enqueued-time > '1000'", 2],
    ["amqp.annotation.x-opt-enqueued-time >= '2000'", 2],
    ["amqp.annotation.x-opt-enqueued-time > '2500'", 3],
    ["amqp.annotation.x-opt-enqueued-time > '9999'", 4],
  ])("%s starts at sequence number %i", (expression, next) => {
    expect(start(sampleLog(), expression)).toEqual({ next });
  });

  it("treats an offset as a byte position, not a sequence number", () => {
    const log = sampleLog();
    // Sequence number 2 has offset 8; offset "2" is inside event 0 and was never issued.
    expect(start(log, "amqp.annotation.x-opt-offset > '2'")).toEqual({ error: expect.stringMatching(/offset '2' is invalid: it is not the offset of an event/) });
    expect(start(log, "amqp.annotation.x-opt-offset > '3'")).toEqual({ next: 2 });
  });

  it("refuses positions past the end with the service's texts", () => {
    const log = sampleLog();
    expect(start(log, "amqp.annotation.x-opt-sequence-number > '4'")).toEqual({
      error: "The supplied sequence number '4' is invalid. The last sequence number in the system is '3'.",
    });
    expect(start(log, "amqp.annotation.x-opt-sequence-number >= '5'")).toHaveProperty("error");
    expect(start(log, "amqp.annotation.x-opt-offset > '14'")).toEqual({
      error: "The supplied offset '14' is invalid. The last offset in the system is '10'.",
    });
    expect(start(log, "amqp.annotation.x-opt-offset >= '15'")).toHaveProperty("error");
    const empty = new PartitionLog("0");
    expect(start(empty, "amqp.annotation.x-opt-offset > '0'")).toEqual({
      error: "The supplied offset '0' is invalid. The last offset in the system is '-1'.",
    });
    expect(start(empty, "amqp.annotation.x-opt-sequence-number > '0'")).toHaveProperty("error");
    expect(start(empty, "amqp.annotation.x-opt-offset > '-1'")).toEqual({ next: 0 });
    expect(start(empty, "amqp.annotation.x-opt-offset > '@latest'")).toEqual({ next: 0 });
  });

  it("maps every offset it issued back to its event across many appends", () => {
    const log = new PartitionLog("0");
    const issued: StoredEvent[] = [];
    for (let i = 0; i < 300; i++) issued.push(...log.append([event("x".repeat(1 + (i % 17)))], i));
    for (const stored of issued) {
      expect(start(log, `amqp.annotation.x-opt-offset >= '${stored.offset}'`)).toEqual({ next: stored.sequenceNumber });
    }
  });
});

describe("PartitionLog eviction", () => {
  it("moves the beginning forward, skips evicted events and starts old positions at the oldest kept", () => {
    const log = sampleLog();
    expect(log.evictOlderThan(2000)).toBe(8);
    expect(log.beginSequenceNumber).toBe(2);
    expect(log.retainedBytes).toBe(6);
    expect(log.read(0, 10).map((e) => e.sequenceNumber)).toEqual([2, 3]);
    expect(start(log, "amqp.annotation.x-opt-offset > '-1'")).toEqual({ next: 2 });
    expect(start(log, "amqp.annotation.x-opt-offset > '0'")).toEqual({ next: 2 });
    expect(start(log, "amqp.annotation.x-opt-sequence-number > '0'")).toEqual({ next: 2 });
    expect(start(log, "amqp.annotation.x-opt-offset > '8'")).toEqual({ next: 3 });
  });

  it("keeps the last enqueued event and numbering after evicting everything", () => {
    const log = sampleLog();
    log.evictOlderThan(Number.POSITIVE_INFINITY);
    expect(log.isEmpty).toBe(true);
    expect(log.beginSequenceNumber).toBe(4);
    expect(log.lastEnqueued?.sequenceNumber).toBe(3);
    expect(log.read(0, 10)).toEqual([]);
    const [next] = log.append([event("eeeee")], 4000);
    expect(next).toMatchObject({ sequenceNumber: 4, offset: 14 });
    expect(log.read(0, 10).map((e) => e.sequenceNumber)).toEqual([4]);
  });

  it("stays correct through compaction of many evicted events", () => {
    const log = new PartitionLog("0");
    for (let i = 0; i < 5000; i++) log.append([event("ab")], i);
    log.evictOlderThan(4000);
    expect(log.beginSequenceNumber).toBe(4000);
    expect(log.read(3990, 3).map((e) => e.sequenceNumber)).toEqual([4000, 4001, 4002]);
    expect(start(log, "amqp.annotation.x-opt-offset >= '9000'")).toEqual({ next: 4500 });
    expect(start(log, "amqp.annotation.x-opt-enqueued-time > '4500'")).toEqual({ next: 4501 });
    expect(log.retainedBytes).toBe(2000);
  });
});
