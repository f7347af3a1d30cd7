import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BroadcastChannel } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTextInsights } from "../../../worker/processing/text-insights-processor";
import { createModuleProcessor } from "../../../worker/processing/module-processor";
import { ProcessingPool } from "../../../worker/processing/pool";
import type { PoolOptions } from "../../../worker/processing/pool-settings";
import { isPoisonEventError, isTransientFailure, PoisonEventError } from "../../../worker/failures";
import type { EventInput, Processor } from "../../../worker/processing/processor";
import { createTextAnalyzer, MAX_LEARNED_WORDS, type TextInsights } from "../../../worker/processing/text-insights";
import { modelLoads, sharedModel } from "../../../worker/processing/text-insights-model";
import winkNLP from "wink-nlp";
import { waitFor } from "../../../tools/wait-for";
import winkModel from "wink-eng-lite-web-model";

function input(sequenceNumber: number, body: unknown): EventInput {
  return { partitionId: "1", sequenceNumber, offset: String(sequenceNumber * 100), enqueuedTimeUtc: new Date(0).toISOString(), body, properties: {} };
}

describe("text-insights on the worker-thread pool", () => {
  let processor: Processor;
  beforeAll(async () => {
    processor = await startTextInsights({ threads: 2, idleThreadMs: 60_000, maxQueue: 4, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await processor.close();
  });

  it("orders sentiment: a glowing review scores above a furious one", async () => {
    const [happy, angry, flat] = (await Promise.all([
      processor.process(input(1, "I love this phone. The camera is wonderful and the battery is excellent!")),
      processor.process(input(2, { text: "This is the worst service ever. I hate it, terrible and rude staff." })),
      processor.process(input(3, { message: "The parcel was delivered on Tuesday." })),
    ])) as TextInsights[];
    expect(happy!.sentiment.score).toBeGreaterThan(flat!.sentiment.score);
    expect(flat!.sentiment.score).toBeGreaterThan(angry!.sentiment.score);
    expect(happy!.sentiment.label).toBe("positive");
    expect(angry!.sentiment.label).toBe("negative");
  });

  it("redacts email, phone and URL and keeps them out of the entity list", async () => {
    const text = "Write to jane.doe@example.com or call +1 (555) 123-4567, docs at https://example.com/help today. Paid $250 on 12 March 2024.";
    const insights = (await processor.process(input(4, { body: text }))) as TextInsights;
    expect(insights.pii).toMatchObject({ emails: 1, phones: 1, urls: 1 });
    expect(insights.pii.redactedText).toBe("Write to [EMAIL] or call [PHONE], docs at [URL] today. Paid $250 on 12 March 2024.");
    const types = insights.entities.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["MONEY", "DATE"]));
    expect(JSON.stringify(insights.entities)).not.toMatch(/jane|555|example\.com/);
    expect(insights.stats.tokens).toBeGreaterThan(10);
    expect(insights.stats.sentences).toBe(2);
    expect(insights.stats.englishStopWordRatio).toBeGreaterThan(0);
  });

  it("turns a body without text into a PoisonEventError across the thread boundary", async () => {
    const failure = await processor.process(input(5, { temperature: 21 })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PoisonEventError);
    expect((failure as Error).message).toMatch(/expects a text body.*"text", "message" or "body".*\[temperature\]/);
    const binary = await processor.process(input(6, new Uint8Array([1, 2, 3]))).catch((e: unknown) => e);
    expect(isPoisonEventError(binary)).toBe(true);
    expect((binary as Error).message).toMatch(/binary data \(3 bytes\)/);
  });
});

describe("text-insights threads share one language model", () => {
  it("reads the model once per process; every thread builds its NLP instances on that one copy", async () => {
    const model = sharedModel();
    const instancesBefore = Atomics.load(model.instances, 0);
    const pool = await startTextInsights({ threads: 2, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 });
    try {
      // One thread at start; a batch of two shares starts the second. Each thread counted its instance in the
      // shared memory this process holds: a copy would not show it.
      expect(Atomics.load(model.instances, 0)).toBe(instancesBefore + 1);
      // (The second share reaches the pool while the first thread holds the first: a second thread starts.)
      await pool.processMany(Array.from({ length: 64 }, (_, i) => input(i, "Thanks, the parcel arrived.")));
      expect(pool.threadsRunning).toBe(2);
      await waitFor("the second thread's NLP instance", () => Atomics.load(model.instances, 0) === instancesBefore + 2, 10_000);
      expect(modelLoads()).toBe(1);
      const texts = ["I love this phone, the camera is wonderful!", "Worst service ever, I hate it."];
      const onThreads = (await pool.processMany(texts.map((text, i) => input(i, text)))).map((s) => (s.ok ? JSON.parse(s.json) : s.error));
      // The same analysis as an instance built the package's own way (its core model loaded in full, unshared).
      const nlp = winkNLP(winkModel);
      expect(onThreads.map((r: TextInsights) => r.stats.tokens)).toEqual(texts.map((text) => nlp.readDoc(text).tokens().length()));
      expect(onThreads.map((r: TextInsights) => r.sentiment.score)).toEqual(texts.map((text) => Math.round(nlp.readDoc(text).out(nlp.its.sentiment) as unknown as number * 1000) / 1000));
    } finally {
      await pool.close();
    }
  });

  it("decodes received bodies on the threads; a body that is not bytes and nests too deep never reaches one", async () => {
    const pool = await startTextInsights({ threads: 1, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 });
    try {
      let deep: unknown = "bottom";
      for (let i = 0; i < 1200; i++) deep = [deep];
      const received = [
        { ...input(1, Buffer.from(JSON.stringify({ text: "Thanks, great support!" }))), contentType: "application/json" },
        { ...input(2, Buffer.from("not json")), contentType: "application/json" },
        input(3, deep), // an AMQP value section: not bytes
      ];
      const [ok, invalid, tooDeep] = await pool.processReceived(received);
      expect(ok?.ok && (JSON.parse(ok.json) as TextInsights).sentiment.label).toBe("positive");
      expect(invalid?.ok === false && isPoisonEventError(invalid.error) && (invalid.error as Error).message).toMatch(/not valid JSON/);
      expect(tooDeep?.ok === false && isPoisonEventError(tooDeep.error) && (tooDeep.error as Error).message).toMatch(/more than 1000 levels deep/);
    } finally {
      await pool.close();
    }
  });
});

describe("custom processor modules", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "wc-modules-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the documented word-count example on the pool", async () => {
    const processor = await createModuleProcessor({ modulePath: "worker/processing/examples/word-count.ts", threads: 1, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 });
    try {
      expect(processor.name).toMatch(/^module:.*word-count\.ts$/);
      await expect(processor.process(input(1, { text: "the cat and the hat" }))).resolves.toEqual({
        words: 5,
        distinct: 4,
        top: [["the", 2], ["and", 1], ["cat", 1]],
      });
      const poison = await processor.process(input(2, 42)).catch((e: unknown) => e);
      expect(isPoisonEventError(poison)).toBe(true);
    } finally {
      await processor.close();
    }
  });

  it("loads a default-export .mjs module and runs init() once per thread", async () => {
    const file = path.join(dir, "tagger.mjs");
    await writeFile(
      file,
      `import { threadId } from "node:worker_threads";
       let inits = 0;
       export default {
         init() { inits++; },
         async process(input) { return { seq: input.sequenceNumber, inits, threadId, upper: String(input.body).toUpperCase() }; },
       };`,
    );
    const processor = await createModuleProcessor({ modulePath: file, threads: 2, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 });
    try {
      const results = (await Promise.all([1, 2, 3, 4, 5, 6].map((n) => processor.process(input(n, `event ${n}`))))) as Array<{
        seq: number; inits: number; threadId: number; upper: string;
      }>;
      expect(results.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(results.map((r) => r.upper)).toContain("EVENT 6");
      expect(results.every((r) => r.inits === 1 && r.threadId > 0)).toBe(true);
    } finally {
      await processor.close();
    }
  });

  it("rejects a module without a process function, naming the path and what is expected", async () => {
    const file = path.join(dir, "bad.ts");
    await writeFile(file, "export const handle = (x: unknown) => x;\nexport const version = 1;\n");
    const failure = await createModuleProcessor({ modulePath: file, threads: 1, idleThreadMs: 60_000, maxQueue: 1, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(file);
    expect((failure as Error).message).toMatch(/no process function \(exports found: \[.*handle.*version.*\]\); expected a module exporting `process\(input: EventInput\)/);
  });

  it("rejects a missing module file and a module whose init() throws", async () => {
    await expect(createModuleProcessor({ modulePath: "no/such/model.ts", threads: 1, idleThreadMs: 60_000, maxQueue: 1, timeoutMs: 30_000 })).rejects.toThrow(
      /processor module "no\/such\/model\.ts" not found \(looked for the file .*no\/such\/model\.ts\)/,
    );
    const file = path.join(dir, "broken-init.mjs");
    await writeFile(file, "export function init() { throw new Error('model weights missing'); }\nexport function process() { return 1; }\n");
    await expect(createModuleProcessor({ modulePath: file, threads: 1, idleThreadMs: 60_000, maxQueue: 1, timeoutMs: 30_000 })).rejects.toThrow(/broken-init\.mjs.*model weights missing/);
  });
});

/** A pool of `module-thread`s running `source` (written to a temporary .mjs file), closed and removed after `use`. */
async function withModulePool(
  name: string,
  source: string,
  options: PoolOptions,
  use: (pool: ProcessingPool) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), `wc-${name}-`));
  const file = path.join(dir, `${name}.mjs`);
  await writeFile(file, source);
  const pool = await ProcessingPool.start({ name, entry: "module-thread", ...options, workerData: { modulePath: file } });
  try {
    await use(pool);
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A module source whose events with the body "gate" tell `channelName` their thread's id and wait for the next "go";
 * other bodies run as `rest` says. With the gate, a test decides when a thread is busy, not the machine's speed.
 */
function gatedModule(channelName: string, rest: string): string {
  return `import { BroadcastChannel, threadId } from "node:worker_threads";
    const channel = new BroadcastChannel(${JSON.stringify(channelName)});
    channel.unref();
    const waiting = new Set();
    channel.onmessage = ({ data }) => {
      if (data !== "go") return;
      for (const open of waiting) open();
      waiting.clear();
    };
    export async function process(input) {
      if (input.body === "gate") {
        const opened = new Promise((resolve) => waiting.add(resolve));
        channel.postMessage(threadId);
        await opened;
        return { seq: input.sequenceNumber, threadId };
      }
      ${rest}
    }`;
}

/** Opens the gate (see gatedModule) once `threads` different threads wait at it; the channel closes then. */
function openGateWhen(channelName: string, threads: number): Promise<number[]> {
  const channel = new BroadcastChannel(channelName);
  const waiting = new Set<number>();
  return new Promise((resolve) => {
    channel.onmessage = (message) => {
      waiting.add((message as { data: number }).data);
      if (waiting.size < threads) return;
      channel.postMessage("go");
      channel.close();
      resolve([...waiting]);
    };
  });
}

describe("pool backpressure", () => {
  it("keeps at most maxQueue tasks inside the pool; further callers wait and all finish", async () => {
    const source = `import { setTimeout } from "node:timers/promises";
      export async function process(input) { await setTimeout(20); return input.sequenceNumber * 2; }`;
    await withModulePool("slow", source, { threads: 1, idleThreadMs: 60_000, maxQueue: 2, timeoutMs: 30_000 }, async (pool) => {
      let highestQueued = 0;
      let highestWaiting = 0;
      const sampler = setInterval(() => {
        highestQueued = Math.max(highestQueued, pool.queued);
        highestWaiting = Math.max(highestWaiting, pool.waiting);
      }, 2);
      try {
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.process(input(i, "x"))));
        expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
        expect(pool.peakQueued).toBeLessThanOrEqual(2);
        expect(highestQueued).toBeLessThanOrEqual(2);
        expect(highestWaiting).toBeGreaterThan(0); // callers were held back, not queued in the pool
        expect(pool.waiting).toBe(0);
      } finally {
        clearInterval(sampler);
      }
    });
  });

  it("processMany sends one task per thread and settles every event on its own, in order; a small batch goes to one thread", async () => {
    const source = gatedModule("mixed-gate", `
      if (input.body === "poison") { const e = new Error("unreadable " + input.sequenceNumber); e.name = "PoisonEventError"; throw e; }
      if (input.body === "flaky") throw new Error("backend hiccup");
      if (input.body === "no-json") return { big: 1n };
      return { seq: input.sequenceNumber, threadId };`);
    await withModulePool("mixed", source, { threads: 2, idleThreadMs: 60_000, maxQueue: 0, timeoutMs: 30_000 }, async (pool) => {
      // Each share starts with a gate that opens once both threads wait at it: one thread cannot take both.
      const gate = openGateWhen("mixed-gate", 2);
      const bodies = ["gate", "poison", "ok", "flaky", "ok", "no-json", ...Array.from({ length: 10 }, () => "ok"), "gate", ...Array.from({ length: 15 }, () => "ok")];
      const settlements = await pool.processMany(bodies.map((body, i) => input(i, body)));
      await gate;
      expect(settlements).toHaveLength(32);
      const ok = settlements.flatMap((s, i) => (s.ok ? [{ i, result: JSON.parse(s.json) as { seq: number; threadId: number } }] : []));
      expect(ok.map(({ i, result }) => [i, result.seq])).toEqual([0, 2, 4, ...Array.from({ length: 26 }, (_, k) => k + 6)].map((i) => [i, i]));
      // Two threads, maxQueue 0: the batch went out as exactly two tasks, one per thread, in order.
      const threadsOf = (results: typeof ok) => [...new Set(results.map(({ result }) => result.threadId))];
      expect(threadsOf(ok)).toHaveLength(2);
      expect(threadsOf(ok.filter(({ i }) => i < 16))).toHaveLength(1);
      const failed = (i: number) => settlements[i] as { ok: false; error: Error };
      expect(isPoisonEventError(failed(1).error)).toBe(true);
      expect(failed(1).error.message).toBe("unreadable 1");
      expect(isPoisonEventError(failed(3).error)).toBe(false); // transient: the batch processor retries it
      expect(isPoisonEventError(failed(5).error)).toBe(true); // a result without a JSON form is permanent
      expect(failed(5).error.message).toMatch(/not JSON-serialisable/);
      // Fewer events than two tasks' worth: one task, so one thread, although both are idle.
      const small = await pool.processMany(Array.from({ length: 8 }, (_, i) => input(i, "ok")));
      expect(new Set(small.map((s) => s.ok && (JSON.parse(s.json) as { threadId: number }).threadId)).size).toBe(1);
    });
  });

  it("starts a thread when every running one is busy, and stops one beyond the first that has had no work", async () => {
    const source = gatedModule("grow-gate", "return { seq: input.sequenceNumber, threadId };");
    await withModulePool("grow", source, { threads: 2, idleThreadMs: 200, maxQueue: 0, timeoutMs: 30_000 }, async (pool) => {
      expect(pool.threadsRunning).toBe(1);
      const batch = Array.from({ length: 32 }, (_, i) => input(i, i % 16 === 0 ? "gate" : "ok"));
      for (let round = 0; round < 2; round++) {
        // The first thread waits at its share's gate, so the second share needs a second thread.
        const gate = openGateWhen("grow-gate", 2);
        const settled = pool.processMany(batch);
        const threads = await gate;
        expect(threads).toHaveLength(2);
        expect(pool.threadsRunning).toBe(2);
        expect((await settled).every((s) => s.ok)).toBe(true);
        await waitFor("the idle thread to stop", () => pool.threadsRunning === 1, 10_000);
      }
    });
  });

  it("an event that never settles, or never yields its thread, fails alone with the time limit; the pool carries on", async () => {
    const source = `export function process(input) {
        if (input.body === "never") return new Promise(() => {});
        if (input.body === "spin") for (;;) {}
        return { seq: input.sequenceNumber };
      }`;
    // A limit far above what an "ok" event takes even on a loaded machine, so only the hanging events reach it.
    await withModulePool("hang", source, { threads: 1, idleThreadMs: 60_000, maxQueue: 4, timeoutMs: 2000 }, async (pool) => {
      const bodies = ["ok", "never", "ok", "spin", "ok"];
      // As the batch processor does: events that failed transiently (they shared the thread that was replaced)
      // run again; the events that hang are charged with the time limit.
      const outcomes = new Map<number, { ok: boolean; error?: Error }>();
      let pending = bodies.map((body, i) => input(i, body));
      for (let round = 0; round < 5 && pending.length > 0; round++) {
        const settlements = await pool.processMany(pending);
        const next: EventInput[] = [];
        settlements.forEach((settlement, k) => {
          const event = pending[k] as EventInput;
          if (!settlement.ok && isTransientFailure(settlement.error)) next.push(event);
          else outcomes.set(event.sequenceNumber, settlement.ok ? { ok: true } : { ok: false, error: settlement.error as Error });
        });
        pending = next;
      }
      // Each event's outcome in words, so a failure names the error an event got.
      const described = bodies.map((_, i) => {
        const outcome = outcomes.get(i);
        return outcome === undefined ? "unsettled" : outcome.ok ? "ok" : `${outcome.error?.name}: ${outcome.error?.message}`;
      });
      const timedOut = "ProcessingTimeoutError: processing the event took longer than PROCESSOR_TIMEOUT_MS (2000 ms)";
      expect(described).toEqual(["ok", timedOut, "ok", timedOut, "ok"]);
      for (const i of [1, 3]) {
        const error = outcomes.get(i)?.error as Error;
        expect(isPoisonEventError(error) || isTransientFailure(error)).toBe(false); // retried, then dead-lettered
      }
      // The spinning thread was terminated and replaced: the pool still answers.
      await expect(pool.process(input(9, "ok"))).resolves.toEqual({ seq: 9 });
    });
  });

  it("a main thread busy past the watchdog's deadline does not take a thread whose event finished for stuck", async () => {
    const channelName = `pool-started-${process.pid}`;
    const source = `import { BroadcastChannel, threadId } from "node:worker_threads";
      const started = new BroadcastChannel(${JSON.stringify(channelName)});
      started.unref();
      export function process(input) {
        started.postMessage(input.sequenceNumber);
        const until = Date.now() + 200;
        while (Date.now() < until) {} // finishes while the main thread is busy
        return { threadId };
      }`;
    const channel = new BroadcastChannel(channelName);
    try {
      await withModulePool("busy-main", source, { threads: 1, idleThreadMs: 60_000, maxQueue: 1, timeoutMs: 1000 }, async (pool) => {
        const started = new Promise((resolve) => (channel.onmessage = resolve));
        const first = pool.process(input(1, "x")) as Promise<{ threadId: number }>;
        await started; // the event runs on the thread (its watch, in shared memory, says so)
        // Busy (blocked) well past the time limit plus the watchdog's grace, while the thread finishes the event.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
        const { threadId } = await first;
        // The same thread answers the next event: it was not terminated as stuck.
        await expect(pool.process(input(2, "x"))).resolves.toEqual({ threadId });
      });
    } finally {
      channel.close();
    }
  });

  it("a replacement thread loads its module before the next event's time limit starts", async () => {
    // Loading takes longer than the time limit, on every thread: the first one and its replacement.
    const source = `import { setTimeout } from "node:timers/promises";
      export async function init() { await setTimeout(1500); }
      export function process(input) {
        if (input.body === "spin") for (;;) {}
        return { seq: input.sequenceNumber };
      }`;
    await withModulePool("reload", source, { threads: 1, idleThreadMs: 60_000, maxQueue: 4, timeoutMs: 1000 }, async (pool) => {
      const [spun] = await pool.processMany([input(1, "spin")]);
      expect(spun?.ok === false && (spun.error as Error).name).toBe("ProcessingTimeoutError");
      // The thread that spun was replaced; the new one spends 1.5 s loading before this event starts.
      await expect(pool.process(input(2, "ok"))).resolves.toEqual({ seq: 2 });
    });
  });

  it("an aborted caller that is still waiting for room never reaches the pool", async () => {
    const source = `import { setTimeout } from "node:timers/promises";
      let seen = 0; export async function process() { seen++; await setTimeout(30); return seen; }`;
    await withModulePool("count", source, { threads: 1, idleThreadMs: 60_000, maxQueue: 0, timeoutMs: 30_000 }, async (pool) => {
      const controller = new AbortController();
      const first = pool.process(input(1, "a"), controller.signal);
      const second = pool.process(input(2, "b"), controller.signal).catch((e: unknown) => e);
      controller.abort();
      await expect(first).resolves.toBe(1); // already started: finishes
      expect(await second).toMatchObject({ name: "AbortError" });
      await expect(pool.process(input(3, "c"))).resolves.toBe(2); // the aborted one never ran
    });
  });
});

describe("text-insights memory on text with unique tokens", () => {
  const uniqueText = (i: number) => {
    const hex = ((i * 2654435761) >>> 0).toString(16);
    return `Order ORD-${i}-${hex} for customer c${hex}x arrived damaged, ticket ${i * 7919} ref ${hex}ab.`;
  };

  it("keeps the words the NLP instance learns under MAX_LEARNED_WORDS, however many unique tokens arrive", () => {
    const analyzer = createTextAnalyzer();
    let most = 0;
    for (let i = 0; i < 12_000; i++) {
      analyzer.analyze(uniqueText(i)); // about 5 new words each: 60,000 in all
      most = Math.max(most, analyzer.learnedWords());
    }
    expect(most).toBeGreaterThan(MAX_LEARNED_WORDS / 2); // the text really is new to the model
    expect(most).toBeLessThan(MAX_LEARNED_WORDS + 50); // one text's words beyond the bound at most
  });

  it("gives the same results after the instance is replaced", () => {
    const recycled = createTextAnalyzer(200);
    const texts = Array.from({ length: 100 }, (_, i) => uniqueText(i));
    const results = texts.map((text) => recycled.analyze(text));
    expect(recycled.learnedWords()).toBeLessThan(250);
    const neverReplaced = createTextAnalyzer(Number.POSITIVE_INFINITY);
    expect(texts.map((text) => neverReplaced.analyze(text))).toEqual(results);
  });
});
