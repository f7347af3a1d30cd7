import { setTimeout as sleep } from "node:timers/promises";
import type { ReceivedEventData } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BatchPipeline } from "../../worker/batch-pipeline";
import type { DeadLetterRecord } from "../../common/dead-letter-record";
import { startTextInsights } from "../../worker/processing/text-insights-processor";
import { PoisonEventError, ThrottledError } from "../../worker/failures";
import type { EventInput, Processor } from "../../worker/processing/processor";
import { Semaphore } from "../../worker/processing/semaphore";
import type { RetryPolicy } from "../../worker/retry";
import { PartialWriteError, serializeResultRecord, type ResultRecord, type Sink } from "../../worker/sinks/sink";

const retry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

function event(sequenceNumber: number, body: string | Buffer, contentType?: string): ReceivedEventData {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body), sequenceNumber, offset: String(sequenceNumber * 100),
    enqueuedTimeUtc: new Date(Date.UTC(2024, 2, 12, 9, 0, sequenceNumber)), partitionKey: null, properties: { n: sequenceNumber },
    messageId: `msg-${sequenceNumber}`, ...(contentType ? { contentType } : {}),
    getRawAmqpMessage: () => { throw new Error("not used"); },
  };
}

/**
 * A processor driven by the event text: "ok", "poison", "flaky:<n>" (fails n times, then succeeds),
 * "down" (always fails), "throttled" (asks for a 60 s wait once), "slow:<ms>", "gated" (runs until openGate()).
 * It finishes events out of order on purpose.
 */
class ScriptedProcessor implements Processor {
  readonly name = "scripted";
  readonly attempts = new Map<number, number>();
  openGate: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));
  async process(input: EventInput): Promise<unknown> {
    const attempt = (this.attempts.get(input.sequenceNumber) ?? 0) + 1;
    this.attempts.set(input.sequenceNumber, attempt);
    const text = String(input.body);
    await sleep((input.sequenceNumber * 7) % 11);
    if (text === "poison") throw new PoisonEventError(`cannot process event ${input.sequenceNumber}`);
    if (text === "down") throw new Error("model backend unavailable");
    if (text === "throttled" && attempt === 1) throw new ThrottledError("429", 60_000);
    if (text.startsWith("flaky:") && attempt <= Number(text.slice(6))) throw new Error(`flaky failure ${attempt}`);
    if (text.startsWith("slow:")) await sleep(Number(text.slice(5)));
    if (text === "gated") await this.gate;
    return { seq: input.sequenceNumber, attempt };
  }
  async close(): Promise<void> {}
}

class MemorySink implements Sink {
  readonly writes: ResultRecord[][] = [];
  failuresLeft: number;
  constructor(failures = 0) {
    this.failuresLeft = failures;
  }
  async write(records: ResultRecord[]): Promise<void> {
    if (this.failuresLeft-- > 0) throw new Error("sink unavailable");
    this.writes.push(records);
  }
  async close(): Promise<void> {}
}

class MemoryDeadLetters {
  readonly records = new Map<number, DeadLetterRecord>();
  /** Sequence number of every successful put, repeats included (the map above would hide a rewrite). */
  readonly stored: number[] = [];
  failuresLeft: number;
  constructor(failures = 0) {
    this.failuresLeft = failures;
  }
  async put(record: DeadLetterRecord): Promise<void> {
    if (this.failuresLeft-- > 0) throw new Error("storage 503");
    this.records.set(record.sequenceNumber, record);
    this.stored.push(record.sequenceNumber);
  }
}

function batchPipeline(processor: Processor, sink: Sink, deadLetters: { put(record: DeadLetterRecord): Promise<void> }) {
  return new BatchPipeline({ processor, sink, deadLetters, retry, eventHubName: "events", consumerGroup: "ai-workers" });
}

describe("BatchPipeline", () => {
  it("processes a mixed batch: results in sequence order, poison and exhausted events dead-lettered, checkpoint at the end", async () => {
    const processor = new ScriptedProcessor();
    const sink = new MemorySink();
    const deadLetters = new MemoryDeadLetters();
    const events = [
      event(15, "ok"), event(10, "ok"), event(11, "poison"), event(12, "flaky:2"), event(13, "down"),
      event(14, "{bad json", "application/json"), event(16, "ok"),
    ];
    const outcome = await batchPipeline(processor, sink, deadLetters).process("2", events);

    expect(outcome).toMatchObject({ processed: 4, deadLettered: 3 });
    expect(outcome.retries).toBe(2 + 2); // flaky: 2 retries; down: 2 retries before giving up
    expect(outcome.processingMs).toHaveLength(4);
    expect(outcome.lastEvent?.sequenceNumber).toBe(16);

    expect(sink.writes).toHaveLength(1); // one write per batch
    const records = sink.writes[0]!;
    expect(records.map((r) => r.sequenceNumber)).toEqual([10, 12, 15, 16]);
    expect(records[1]).toMatchObject({
      partitionId: "2", offset: "1200", messageId: "msg-12", processor: "scripted",
      enqueuedTimeUtc: "2024-03-12T09:00:12.000Z",
    });
    expect(JSON.parse(serializeResultRecord(records[1]!))).toMatchObject({ messageId: "msg-12", result: { seq: 12, attempt: 3 } });

    expect([...deadLetters.records.keys()].sort()).toEqual([11, 13, 14]);
    expect(deadLetters.records.get(11)).toMatchObject({
      eventHubName: "events", consumerGroup: "ai-workers", partitionId: "2", offset: "1100", messageId: "msg-11",
      properties: { n: 11 }, body: { encoding: "utf8", data: "poison" },
      error: { name: "PoisonEventError", message: "cannot process event 11", attempts: 1 },
    });
    expect(deadLetters.records.get(13)?.error).toEqual({ name: "Error", message: "model backend unavailable", attempts: 3 });
    expect(deadLetters.records.get(14)).toMatchObject({
      contentType: "application/json", body: { encoding: "utf8", data: "{bad json" },
      error: { name: "PoisonEventError", attempts: 1 },
    });
    expect(deadLetters.records.get(14)?.error.message).toMatch(/not valid JSON/);
    expect(processor.attempts.get(11)).toBe(1); // poison is never retried
    expect(processor.attempts.has(14)).toBe(false); // undecodable: never reached the processor
  });

  it("retries a failing sink and dead-letter store with the same policy", async () => {
    const sink = new MemorySink(2);
    const deadLetters = new MemoryDeadLetters(1);
    const outcome = await batchPipeline(new ScriptedProcessor(), sink, deadLetters).process("0", [event(1, "ok"), event(2, "poison")]);
    expect(outcome).toMatchObject({ processed: 1, deadLettered: 1, retries: 3 });
    expect(outcome.lastEvent?.sequenceNumber).toBe(2);
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1]]);
    expect(deadLetters.records.has(2)).toBe(true);
  });

  it("rejects, and so never reports a checkpointable event, when the sink keeps failing", async () => {
    const sink = new MemorySink(Number.POSITIVE_INFINITY);
    const deadLetters = new MemoryDeadLetters();
    await expect(batchPipeline(new ScriptedProcessor(), sink, deadLetters).process("0", [event(1, "ok"), event(2, "ok")])).rejects.toThrow(
      "sink unavailable",
    );
    expect(sink.writes).toHaveLength(0);
  });

  it("rejects when the dead-letter store keeps failing", async () => {
    const deadLetters = new MemoryDeadLetters(Number.POSITIVE_INFINITY);
    await expect(batchPipeline(new ScriptedProcessor(), new MemorySink(), deadLetters).process("0", [event(1, "poison")])).rejects.toThrow(
      "storage 503",
    );
  });

  it("a commit called again after a dead-letter store outage writes only the dead letters: the results go to the sink once", async () => {
    const sink = new MemorySink();
    // Each dead letter fails every attempt of the first commit (retry.maxAttempts each), then the store recovers.
    const deadLetters = new MemoryDeadLetters(2 * retry.maxAttempts);
    const processor = batchPipeline(new ScriptedProcessor(), sink, deadLetters);
    const batch = await processor.run("0", [event(1, "ok"), event(2, "poison"), event(3, "ok"), event(4, "poison")]);

    await expect(processor.commit(batch)).rejects.toThrow("storage 503");
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1, 3]]);
    expect(deadLetters.stored).toEqual([]);

    const outcome = await processor.commit(batch);
    expect(outcome).toMatchObject({ processed: 2, deadLettered: 2 });
    expect(outcome.lastEvent?.sequenceNumber).toBe(4);
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1, 3]]); // not appended again
    expect([...deadLetters.stored].sort()).toEqual([2, 4]);

    await processor.commit(batch); // a further commit has nothing left to write
    expect(sink.writes).toHaveLength(1);
    expect(deadLetters.stored).toHaveLength(2);
  });

  it("a sink write that fails partway is retried with only the records it had not written", async () => {
    // Writes the first record of a write, then fails once: as a sink whose second block or batch fails.
    class HalfwaySink extends MemorySink {
      override async write(records: ResultRecord[]): Promise<void> {
        if (this.failuresLeft-- <= 0) return super.write(records);
        this.writes.push(records.slice(0, 1));
        throw new PartialWriteError(records.slice(0, 1), new Error("second block refused"));
      }
    }
    const sink = new HalfwaySink(1);
    const outcome = await batchPipeline(new ScriptedProcessor(), sink, new MemoryDeadLetters()).process("0", [event(1, "ok"), event(2, "ok"), event(3, "ok")]);
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1], [2, 3]]); // each record once
    expect(outcome).toMatchObject({ processed: 3, retries: 1 });
    expect(outcome.lastEvent?.sequenceNumber).toBe(3);
  });

  it("a commit called again after a sink outage writes only the results: each dead letter is stored once", async () => {
    const sink = new MemorySink(retry.maxAttempts); // every attempt of the first commit fails
    const deadLetters = new MemoryDeadLetters();
    const processor = batchPipeline(new ScriptedProcessor(), sink, deadLetters);
    const batch = await processor.run("0", [event(1, "ok"), event(2, "poison")]);

    await expect(processor.commit(batch)).rejects.toThrow("sink unavailable");
    expect(deadLetters.stored).toEqual([2]);
    expect(sink.writes).toEqual([]);

    const outcome = await processor.commit(batch);
    expect(outcome.lastEvent?.sequenceNumber).toBe(2);
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1]]);
    expect(deadLetters.stored).toEqual([2]); // not rewritten
  });

  it("a commit retries only the dead letters that failed, not the ones already stored", async () => {
    const deadLetters = new MemoryDeadLetters();
    const failing = new Set([3]);
    const processor = batchPipeline(new ScriptedProcessor(), new MemorySink(), {
      put: async (record) => {
        if (failing.has(record.sequenceNumber)) throw new Error("storage 503");
        await deadLetters.put(record);
      },
    });
    const batch = await processor.run("0", [event(1, "poison"), event(2, "poison"), event(3, "poison")]);
    await expect(processor.commit(batch)).rejects.toThrow("storage 503");
    expect([...deadLetters.stored].sort()).toEqual([1, 2]);
    failing.clear();
    expect((await processor.commit(batch)).lastEvent?.sequenceNumber).toBe(3);
    expect([...deadLetters.stored].sort()).toEqual([1, 2, 3]);
  });

  it("on abort finishes started work, starts no retry, and checkpoints only up to the first unfinished event", async () => {
    const processor = new ScriptedProcessor();
    const sink = new MemorySink();
    const deadLetters = new MemoryDeadLetters();
    const slowRetries = new BatchPipeline({
      processor, sink, deadLetters, retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      eventHubName: "events", consumerGroup: "ai-workers",
    });
    const controller = new AbortController();
    const pending = slowRetries.process("1", [event(1, "ok"), event(2, "poison"), event(3, "throttled"), event(4, "gated")], { abandon: controller.signal });
    await vi.waitFor(() => expect(processor.attempts.get(4)).toBe(1), { timeout: 10_000 });
    controller.abort(); // event 4 is still running; event 3 has not been retried
    processor.openGate();
    const outcome = await pending;

    expect(outcome.lastEvent?.sequenceNumber).toBe(2);
    expect(outcome).toMatchObject({ processed: 1, deadLettered: 1 });
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1]]);
    expect([...deadLetters.records.keys()]).toEqual([2]);
    expect(processor.attempts.get(3)).toBe(1); // the retry never started
    expect(processor.attempts.get(4)).toBe(1); // started before the abort and ran to the end
  });

  it("on a planned stop sends nothing new, but finishes what was sent, its retries included", async () => {
    // One slot, as a model deployment with room for one request: events wait for it, and the wait is what stops.
    const scripted = new ScriptedProcessor();
    const slots = new Semaphore(1);
    const processor: Processor = {
      name: "slotted",
      async process(input, signal) {
        await slots.acquire(signal);
        try {
          return await scripted.process(input);
        } finally {
          slots.release();
        }
      },
      close: async () => undefined,
    };
    const sink = new MemorySink();
    const stopStarting = new AbortController();
    const pending = batchPipeline(processor, sink, new MemoryDeadLetters()).process("1", [event(1, "throttled"), event(2, "gated"), event(3, "ok")], { stopStarting: stopStarting.signal });
    // Event 1 was sent and throttled; event 2 holds the slot; event 3 waits for it.
    await vi.waitFor(() => expect(scripted.attempts.get(2)).toBe(1), { timeout: 10_000 });
    stopStarting.abort(new Error("handing over"));
    scripted.openGate();
    const outcome = await pending;

    expect(outcome).toMatchObject({ processed: 2, deadLettered: 0 });
    expect(outcome.lastEvent?.sequenceNumber).toBe(2);
    expect(scripted.attempts.get(1)).toBe(2); // its retry went out after the stop: it had been sent once already
    expect(scripted.attempts.has(3)).toBe(false); // never sent, left for the next owner
    expect(sink.writes.map((w) => w.map((r) => r.sequenceNumber))).toEqual([[1, 2]]);
  });

  it("with nothing started (already aborted) checkpoints nothing", async () => {
    const processor = new ScriptedProcessor();
    const outcome = await batchPipeline(processor, new MemorySink(), new MemoryDeadLetters()).process("1", [event(1, "ok")], { abandon: AbortSignal.abort() });
    expect(outcome.lastEvent).toBeUndefined();
    expect(processor.attempts.size).toBe(0);
  });
});

describe("BatchPipeline with the real text-insights pool", () => {
  let processor: Processor;
  beforeAll(async () => {
    processor = await startTextInsights({ threads: 2, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await processor.close();
  });

  it("runs a batch larger than the pool's capacity and dead-letters a binary body", async () => {
    const sink = new MemorySink();
    const deadLetters = new MemoryDeadLetters();
    const events = Array.from({ length: 20 }, (_, i) =>
      i === 7 ? event(i, Buffer.from([0x00, 0xff, 0x10]), "application/octet-stream") : event(i, JSON.stringify({ text: `Great job number ${i}, thanks!` }), "application/json"),
    );
    const outcome = await batchPipeline(processor, sink, deadLetters).process("3", events);
    expect(outcome).toMatchObject({ processed: 19, deadLettered: 1 });
    expect(outcome.lastEvent?.sequenceNumber).toBe(19);
    expect(sink.writes[0]?.map((r) => r.sequenceNumber)).toEqual(events.map((e) => e.sequenceNumber).filter((n) => n !== 7));
    expect(JSON.parse(sink.writes[0]?.[0]?.resultJson ?? "null")).toMatchObject({ sentiment: { label: "positive" } });
    expect(deadLetters.records.get(7)).toMatchObject({
      body: { encoding: "base64", data: "AP8Q" },
      error: { name: "PoisonEventError", attempts: 1 },
    });
  });

  it("decodes bodies on the threads, from views into a shared frame, and still dead-letters the ones that cannot be decoded", async () => {
    const bodies: Array<[string | Buffer, string | undefined]> = [
      [JSON.stringify({ text: "The refund arrived, thank you so much!" }), "application/json"],
      ["{\"text\": \"broken", "application/json"], // invalid JSON
      [Buffer.from([0x48, 0xc3, 0x28]), "text/plain"], // invalid UTF-8
      ["[".repeat(1200) + "]".repeat(1200), undefined], // JSON nested deeper than MAX_BODY_DEPTH
      ["plain text without a content type, and a terrible delay", undefined],
    ];
    // As rhea delivers them: each body a view into the frame it arrived in, not a buffer of its own.
    const frame = Buffer.concat(bodies.map(([body]) => Buffer.from(body)));
    let offset = 0;
    const events = bodies.map(([body, contentType], i) => {
      const length = Buffer.byteLength(body);
      const received = event(i, frame.subarray(offset, offset + length), contentType);
      offset += length;
      return received;
    });
    const sink = new MemorySink();
    const deadLetters = new MemoryDeadLetters();
    const outcome = await batchPipeline(processor, sink, deadLetters).process("2", events);
    expect(outcome).toMatchObject({ processed: 2, deadLettered: 3 });
    const results = (sink.writes[0] ?? []).map((record) => [record.sequenceNumber, (JSON.parse(record.resultJson) as { sentiment: { label: string } }).sentiment.label]);
    expect(results).toEqual([[0, "positive"], [4, "negative"]]);
    const reasons = [...deadLetters.records.values()].map((letter) => [letter.sequenceNumber, letter.error.name, letter.error.message]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        [1, "PoisonEventError", expect.stringMatching(/not valid JSON but contentType is "application\/json"/)],
        [2, "PoisonEventError", expect.stringMatching(/not valid UTF-8 but contentType is "text\/plain"/)],
        [3, "PoisonEventError", expect.stringMatching(/more than 1000 levels deep/)],
      ]),
    );
    expect(deadLetters.records.get(1)?.body).toMatchObject({ data: "{\"text\": \"broken" }); // its own bytes, not its frame's
  });
});
