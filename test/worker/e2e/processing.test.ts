// Processing failures end to end, with a real worker process: a poison event is dead-lettered while the rest
// of its partition flows; 429 and 5xx answers from the AI endpoint are retried; telemetry endpoints answer.
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { FakeModelServer } from "../../../bench/fake-model-server";
import { keysOf, readCheckpoints, readDeadLetters, readOwnership, sendToEveryPartition, fourPartitionHubs } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, WorkerFleet } from "../../support/worker-process";

let stack: LocalStack;
let openai: FakeModelServer;
const workers = new WorkerFleet(() => stack.env());
const startWorker = (name: string, hub: string, env?: Record<string, string>) => workers.start(name, hub, env);

beforeAll(async () => {
  [stack, openai] = await Promise.all([
    startLocalStack({ config: fourPartitionHubs("poison", "openai", "hostile", "sinkhealth") }),
    FakeModelServer.start(),
  ]);
});
afterEach(async () => {
  await workers.disposeAll();
});
afterAll(async () => {
  await Promise.all([stack?.stop(), openai?.close()]);
});

describe("worker processing failures", () => {
  it("dead-letters a poison event while the rest of its partition flows and is checkpointed", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "poison", 30, (i) => i === 7 || i === 21);
    const poison = sent.filter((e) => e.poison);
    const good = sent.filter((e) => !e.poison);
    const prefetch = 300; // above the batch size (100), so it is the credit the SDK asks for
    const worker = startWorker("poison", "poison", { CHECKPOINT_EVERY_EVENTS: "10", MAX_WAIT_MS: "100", PREFETCH_COUNT: String(prefetch) });

    await waitFor("every good event", () => keysOf(worker.results).size >= good.length, 40_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(good));
    await waitFor(
      "checkpoints past the poison events",
      async () => [...(await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "poison")).values()].filter((s) => s === 29).length === 4,
      10_000,
      () => worker.describe(),
    );

    const letters = await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, "poison");
    expect([...letters.keys()].sort()).toEqual(poison.map((e) => `poison/ai-workers/${e.partitionId}/${e.sequenceNumber}.json`).sort());
    // Idle receive cycles (every MAX_WAIT_MS) do not pile up link credit: the SDK alone adds a prefetch per cycle
    // and partition (receiver-credit.ts; without the bound this read 5,600 after these two seconds).
    await sleep(2000);
    expect(stack.emulator.stats().unusedCredit).toBeLessThanOrEqual(4 * prefetch);
    const letter = letters.get("poison/ai-workers/3/21.json");
    expect(letter).toMatchObject({
      eventHubName: "poison",
      partitionId: "3",
      sequenceNumber: 21,
      contentType: "application/json",
      messageId: "p3-21",
      body: { encoding: "utf8", data: expect.stringContaining("{") },
      error: { name: "PoisonEventError", message: expect.stringContaining("not valid JSON") },
    });

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });

  it("dead-letters a deeply nested event (5,000 levels) with its exact text and the reason, and the partition moves on", async () => {
    const nested = `{"text":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, "hostile");
    try {
      const batch = await producer.createBatch({ partitionId: "2" });
      for (let i = 0; i < 21; i++) {
        const body = i === 10 ? nested : JSON.stringify({ text: `Message ${i}: my order arrived late.` });
        expect(batch.tryAdd({ body: Buffer.from(body), contentType: "application/json", messageId: `h-${i}` })).toBe(true);
      }
      await producer.sendBatch(batch);
    } finally {
      await producer.close();
    }
    const worker = startWorker("hostile", "hostile", { CHECKPOINT_EVERY_EVENTS: "5" });

    await waitFor("the 20 good events", () => worker.results.filter((r) => r.partitionId === "2").length >= 20, 40_000, () => worker.describe());
    expect(worker.results.filter((r) => r.partitionId === "2").map((r) => r.sequenceNumber).sort((a, b) => a - b))
      .toEqual([...Array(21).keys()].filter((i) => i !== 10));
    await waitFor(
      "the checkpoint past the deep event",
      async () => (await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "hostile")).get("2") === 20,
      20_000,
      () => worker.describe(),
    );
    const letters = await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, "hostile");
    expect([...letters.keys()]).toEqual(["hostile/ai-workers/2/10.json"]);
    expect(letters.get("hostile/ai-workers/2/10.json")).toMatchObject({
      sequenceNumber: 10,
      messageId: "h-10",
      body: { encoding: "utf8", data: nested },
      error: { name: "PoisonEventError", message: expect.stringContaining("levels deep") },
    });

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });

  it("is not ready while its sink cannot write, says why, and recovers once the sink can write again", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "sinkhealth", 5);
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, "sinkhealth");
    const hours = new Set<string>();
    try {
      for (const id of ["0", "1", "2", "3"]) hours.add((await producer.getPartitionProperties(id)).lastEnqueuedOnUtc.toISOString().slice(0, 13).replace("T", "-"));
    } finally {
      await producer.close();
    }
    // A block blob where the sink appends: storage answers, but every append fails (409 InvalidBlobType).
    const results = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient("results-health");
    await results.createIfNotExists();
    const blocking = [...hours].map((hour) => results.getBlockBlobClient(`sinkhealth/ai-workers/0/${hour}.jsonl`));
    for (const blob of blocking) await blob.upload("not an append blob", 18);
    const worker = startWorker("sinkhealth", "sinkhealth", { SINK: "blob", SINK_BLOB_CONTAINER: "results-health" });
    const port = await worker.started(30_000);
    const readiness = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: response.status, body: (await response.json()) as { ready: boolean; reasons: string[] } };
    };

    let last = await readiness();
    const sinkReason = () => last.body.reasons.find((reason) => reason.startsWith("sink (blob)"));
    await waitFor(
      "/readyz 503 naming the sink",
      async () => (last = await readiness()).status === 503 && sinkReason() !== undefined,
      30_000,
      () => `${JSON.stringify(last)}\n${worker.describe()}`,
    );
    expect(last.body.ready).toBe(false);
    expect(sinkReason()).toMatch(/^sink \(blob\) writes failing for \d+ s \(partitions 0\): .*blob type/i);

    for (const blob of blocking) await blob.delete();
    await waitFor("/readyz 200 again", async () => (last = await readiness()).status === 200, 40_000, () => `${JSON.stringify(last)}\n${worker.describe()}`);
    expect(last.body).toEqual({ ready: true, reasons: [], notes: [] });
    const written = new Set<string>();
    await waitFor(
      "every result in the sink",
      async () => {
        for await (const blob of results.listBlobsFlat({ prefix: "sinkhealth/" })) {
          const text = (await results.getBlobClient(blob.name).downloadToBuffer()).toString("utf8");
          for (const line of text.trimEnd().split("\n")) {
            const record = JSON.parse(line) as { partitionId: string; sequenceNumber: number };
            written.add(`${record.partitionId}:${record.sequenceNumber}`);
          }
        }
        return written.size >= sent.length;
      },
      30_000,
      () => worker.describe(),
    );
    expect(written).toEqual(keysOf(sent));

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });

  it("retries 429 and 500 answers from the Azure OpenAI endpoint and serves metrics, probes and its status", async () => {
    openai.script(
      { status: 429, retryAfterMs: 50 },
      { status: 500 },
      { status: 429, retryAfterSeconds: 0 },
      { status: 503 },
    );
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "openai", 5);
    const worker = startWorker("openai", "openai", {
      PROCESSOR: "azure-openai",
      AZURE_OPENAI_ENDPOINT: openai.endpoint,
      AZURE_OPENAI_DEPLOYMENT: "triage",
      AZURE_OPENAI_API_KEY: "test-key",
      MODEL_MAX_CONCURRENCY: "2",
      MODEL_INITIAL_CONCURRENCY: "2",
      RETRY_MAX_ATTEMPTS: "6",
    });

    await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 40_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent));
    expect(openai.requests.length).toBeGreaterThanOrEqual(sent.length + 4);
    expect(openai.peakInFlight).toBeLessThanOrEqual(2);
    expect(await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, "openai")).toHaveProperty("size", 0);

    const port = await worker.started(10_000);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = (name: string, filter = "") =>
      metrics
        .split("\n")
        .filter((line) => line.startsWith(name) && line.includes(filter))
        .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
    // At least once: on a loaded machine a partition can change hands and replay from its checkpoint.
    expect(total("worker_events_processed_total")).toBeGreaterThanOrEqual(sent.length);
    // 429 and 5xx are transient: retried without using up the event's attempts.
    expect(total("worker_events_failed_total", 'reason="transient"')).toBeGreaterThanOrEqual(4);
    expect(total("worker_model_requests_total", 'outcome="throttled"')).toBe(2);
    expect(total("worker_model_requests_total", 'outcome="ok"')).toBe(total("worker_events_processed_total"));
    expect(total("worker_owned_partitions")).toBe(4);
    expect(metrics).toContain("worker_end_to_end_latency_seconds_bucket");
    expect(metrics).toContain("nodejs_eventloop_lag_seconds");
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [], notes: [] });
    // /status: who the worker is (the ownerid of its ownership blobs), what it owns, and its readiness.
    const status = await worker.status();
    const owners = await readOwnership(stack.storageConnectionString, stack.checkpointContainer, "openai");
    expect([...owners.values()]).toEqual([status.ownerId, status.ownerId, status.ownerId, status.ownerId]);
    expect(status).toEqual({
      ownerId: expect.stringMatching(/./),
      ownedPartitions: ["0", "1", "2", "3"],
      pid: worker.pid,
      metricsPort: port,
      readiness: { ready: true, reasons: [], notes: [] },
    });

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });
});
