// The chaos verdict on hand-made observations: every failure it is meant to catch is caught, and the
// at-least-once behaviours it must allow (replays, duplicates) do not fail it.
import { describe, expect, it } from "vitest";
import { StampedEvents, bodyBytesOf, sha256, type LedgerEntry } from "../../bench/chaos/stamped-events";
import { BEFORE_ANY_FAULT, duplicatesByFault, judge, type DeadLetterObservation, type ResultObservation } from "../../bench/chaos/verdict";

const RUN = "chaos-test";

/** A ledger of `count` events over 2 partitions; event i is poison when `poison(i)`. */
function ledgerOf(count: number, poison: (i: number) => boolean = () => false): LedgerEntry[] {
  return Array.from({ length: count }, (_, index) => ({ index, partitionId: String(index % 2), sha256: sha256(`body-${index}`), poison: poison(index) }));
}

function stampOf(entry: LedgerEntry) {
  return { chaosRunId: RUN, chaosIndex: entry.index, chaosPartition: entry.partitionId, chaosSha256: entry.sha256 };
}

/** A faithful result for `entry`, written by `instance`, at sequence number index / 2. */
function resultFor(entry: LedgerEntry, instance = "w0#1", overrides: Partial<ResultObservation> = {}): ResultObservation {
  return { instance, partitionId: entry.partitionId, sequenceNumber: Math.floor(entry.index / 2), messageId: `${RUN}-${entry.index}`, receivedSha256: entry.sha256, stamp: stampOf(entry), ...overrides };
}

function deadLetterFor(entry: LedgerEntry, body = `body-${entry.index}`): DeadLetterObservation {
  return { partitionId: entry.partitionId, sequenceNumber: Math.floor(entry.index / 2), messageId: `${RUN}-${entry.index}`, properties: stampOf(entry), body: { encoding: "utf8", data: body } };
}

describe("chaos verdict", () => {
  it("passes when every good event has a result and every poison event a dead letter, replays and duplicates included", () => {
    const ledger = ledgerOf(10, (i) => i === 4);
    const good = ledger.filter((e) => !e.poison);
    // w0 writes everything, crashes; w1 replays partition 0 from an earlier checkpoint (duplicates).
    const results = [...good.map((e) => resultFor(e)), ...good.filter((e) => e.partitionId === "0").map((e) => resultFor(e, "w1#1"))];
    const verdict = judge(RUN, ledger, results, [deadLetterFor(ledger[4]!)]);
    expect(verdict.examples).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.totals).toMatchObject({ sent: 10, poisonSent: 1, processed: 9, deadLettered: 1, duplicated: 4, lost: 0 });
  });

  it("a replay inside one process (restart from a checkpoint) is a duplicate, not a reordering", () => {
    const ledger = ledgerOf(6);
    const partition0 = ledger.filter((e) => e.partitionId === "0");
    const results = [...ledger.map((e) => resultFor(e)), resultFor(partition0[1]!), resultFor(partition0[2]!)];
    const verdict = judge(RUN, ledger, results, []);
    expect(verdict.ok).toBe(true);
    expect(verdict.totals.reordered).toBe(0);
    expect(verdict.totals.duplicated).toBe(2);
  });

  it("fails on a lost good event and on a poison event with neither result nor dead letter", () => {
    const ledger = ledgerOf(6, (i) => i === 5);
    const verdict = judge(RUN, ledger, ledger.slice(0, 4).map((e) => resultFor(e)), []);
    expect(verdict.ok).toBe(false);
    expect(verdict.partitions.find((p) => p.partitionId === "0")).toMatchObject({ lost: 1, poisonLost: 0 });
    expect(verdict.partitions.find((p) => p.partitionId === "1")).toMatchObject({ lost: 0, poisonLost: 1 });
  });

  it("fails on a corrupted body, a corrupted stamp and a corrupted dead letter", () => {
    const ledger = ledgerOf(4, (i) => i === 3);
    const results = [
      resultFor(ledger[0]!, "w0#1", { receivedSha256: sha256("something else") }),
      resultFor(ledger[1]!, "w0#1", { stamp: { ...stampOf(ledger[1]!), chaosPartition: "7" } }),
      resultFor(ledger[2]!),
    ];
    const verdict = judge(RUN, ledger, results, [deadLetterFor(ledger[3]!, "tampered")]);
    expect(verdict.ok).toBe(false);
    expect(verdict.totals.corrupted).toBe(3);
  });

  it("fails when a process writes a partition's events out of order, and on a misrouted result", () => {
    const ledger = ledgerOf(6);
    const [e0, e2, e4] = ledger.filter((e) => e.partitionId === "0");
    const others = ledger.filter((e) => e.partitionId === "1");
    const results = [resultFor(e0!), resultFor(e4!), resultFor(e2!), ...others.slice(1).map((e) => resultFor(e)), resultFor(others[0]!, "w0#1", { partitionId: "0" })];
    const verdict = judge(RUN, ledger, results, []);
    expect(verdict.ok).toBe(false);
    expect(verdict.totals.reordered).toBe(1);
    expect(verdict.totals.misrouted).toBe(1);
  });

  it("fails on mis-dead-lettering: a good event dead-lettered, a poison event processed", () => {
    const ledger = ledgerOf(4, (i) => i === 1);
    const results = [resultFor(ledger[0]!), resultFor(ledger[1]!), resultFor(ledger[3]!)];
    const verdict = judge(RUN, ledger, results, [deadLetterFor(ledger[2]!)]);
    expect(verdict.ok).toBe(false);
    expect(verdict.totals.misDeadLettered).toBe(2);
    expect(verdict.totals.lost).toBe(0);
  });

  it("fails on records of another run, and counts an event the producer stored twice", () => {
    const ledger = ledgerOf(2);
    const results = [resultFor(ledger[0]!), resultFor(ledger[1]!), resultFor(ledger[1]!, "w0#1", { sequenceNumber: 9 }), resultFor(ledger[0]!, "w0#1", { messageId: "other-run-0" })];
    const verdict = judge(RUN, ledger, results, []);
    expect(verdict.unknown).toBe(1);
    expect(verdict.duplicateSends).toBe(1);
    expect(verdict.ok).toBe(false);
  });

  it("the producer's stamp hashes exactly the body bytes a reader re-serializes", () => {
    const events = new StampedEvents(RUN, 4, 0.5, 7);
    for (let i = 0; i < 50; i++) {
      const { event } = events.next();
      const parsed: unknown = JSON.parse((event.body as Buffer).toString("utf8"));
      expect(sha256(bodyBytesOf(parsed))).toBe(events.ledger[i]!.sha256);
      expect(event.properties?.chaosSha256).toBe(events.ledger[i]!.sha256);
    }
    expect(events.ledger.some((e) => e.poison)).toBe(true);
    expect(events.ledger.some((e) => !e.poison)).toBe(true);
  });
});

describe("duplicates by fault", () => {
  it("counts each repeated result against the fault injected last before it was written", () => {
    const [a, b, c] = ledgerOf(3);
    const results = [
      resultFor(a!, "w0#1", { processedAtMs: 1_000 }),
      resultFor(a!, "w1#1", { processedAtMs: 1_500 }), // after nothing: before any fault
      resultFor(b!, "w0#1", { processedAtMs: 2_100 }),
      resultFor(b!, "w1#1", { processedAtMs: 3_100 }), // after the kill -9 at 3,000
      resultFor(b!, "w1#2", { processedAtMs: 5_100 }), // after the SIGTERM at 5,000
      resultFor(c!, "w0#1", { processedAtMs: 5_200 }), // once: no duplicate
    ];
    const faults = [{ kind: "sigterm", atEpochMs: 5_000 }, { kind: "kill9", atEpochMs: 3_000 }];
    expect(duplicatesByFault(RUN, results, faults)).toEqual({ [BEFORE_ANY_FAULT]: 1, kill9: 1, sigterm: 1 });
  });

  it("counts a replay against the kill -9 of the process that wrote the first copy, though other faults came between", () => {
    const [a, b] = ledgerOf(2);
    const results = [
      resultFor(a!, "w2#1", { processedAtMs: 1_000 }),
      resultFor(a!, "w0#2", { processedAtMs: 9_000 }), // w2#1 was killed at 2,000; the SIGTERM at 8,000 ended another process
      resultFor(b!, "w0#1", { processedAtMs: 1_100 }),
      resultFor(b!, "w1#1", { processedAtMs: 9_100 }), // w0#1 ended by nothing: the last fault before it
    ];
    const faults = [
      { kind: "kill9", atEpochMs: 2_000, instance: "w2#1" },
      { kind: "drop", atEpochMs: 5_000 },
      { kind: "sigterm", atEpochMs: 8_000, instance: "w1#3" },
    ];
    expect(duplicatesByFault(RUN, results, faults)).toEqual({ kill9: 1, sigterm: 1 });
  });
});
