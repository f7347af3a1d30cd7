// Remote models end to end: real worker processes against the emulator, Azurite and a local model server with
// a quota. Throttling and outages make events wait, never dead-lettered; a 429's wait holds the whole process;
// a schema violation is retried, then dead-lettered with its reason; embeddings share requests.
// Assertions are on counts and orderings only: how fast the quota is filled is the benchmark's business.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeModelServer } from "../../../bench/fake-model-server";
import { keysOf, readCheckpoints, readDeadLetters, sendToEveryPartition } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, type TestWorker } from "../../support/worker-process";
import { useModelStack } from "../../support/model-stack";

const fixture = useModelStack("tight", "outage", "pause", "schema", "embed", "failover", "priority");
const { workers } = fixture;
const modelServer = (options?: Parameters<typeof fixture.modelServer>[0]) => fixture.modelServer(options);

function modelWorker(name: string, hub: string, server: FakeModelServer, env: Record<string, string> = {}): TestWorker {
  return workers.start(name, hub, {
    PROCESSOR: "azure-openai",
    AZURE_OPENAI_ENDPOINT: server.endpoint,
    AZURE_OPENAI_DEPLOYMENT: "triage",
    AZURE_OPENAI_API_KEY: "test-key",
    // Few attempts: a throttled or failing-over event must not use them up.
    RETRY_MAX_ATTEMPTS: "2",
    RETRY_BASE_DELAY_MS: "50",
    RETRY_MAX_DELAY_MS: "1000",
    ...env,
  });
}

/** A worker with PROCESSOR=model over the given deployments, each on its own model server. */
function deploymentsWorker(name: string, hub: string, deployments: Array<{ name: string; server: FakeModelServer; priority: number }>): TestWorker {
  const list = deployments.map((d) => ({ name: d.name, provider: "azure-openai", endpoint: d.server.endpoint, deployment: "triage", apiKeyEnv: "MODEL_KEY", priority: d.priority }));
  return workers.start(name, hub, {
    PROCESSOR: "model",
    MODEL_DEPLOYMENTS: JSON.stringify(list),
    MODEL_KEY: "test-key",
    RETRY_MAX_ATTEMPTS: "2",
    RETRY_BASE_DELAY_MS: "50",
    RETRY_MAX_DELAY_MS: "1000",
  });
}

async function metricsOf(worker: TestWorker): Promise<(name: string, filter?: string) => number> {
  const port = await worker.started(30_000);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return (name, filter = "") =>
    text
      .split("\n")
      .filter((line) => line.startsWith(name) && line.includes(filter))
      .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

async function readinessOf(worker: TestWorker): Promise<{ ready: boolean; reasons: string[] }> {
  const port = await worker.started(30_000);
  return (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { ready: boolean; reasons: string[] };
}

const checkpointedAll = (hub: string, last: number) => async () =>
  [...(await readCheckpoints(fixture.stack.storageConnectionString, fixture.stack.checkpointContainer, hub)).values()].filter((s) => s === last).length === 4;

describe("remote model under a quota", () => {
  it("a tight quota processes every event and dead-letters none", async () => {
    // 120 requests a minute: 2 per 1 s window, so nearly every burst is throttled.
    const server = await modelServer({ quota: { requestsPerMinute: 120 }, latency: { baseMs: 20 } });
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "tight", 6);
    const worker = modelWorker("tight", "tight", server);

    await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 50_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent));
    expect(server.count(429)).toBeGreaterThan(0);
    expect(await readDeadLetters(fixture.stack.storageConnectionString, fixture.stack.deadLetterContainer, "tight")).toHaveProperty("size", 0);
    await waitFor("checkpoints at the last event", checkpointedAll("tight", 5), 20_000, () => worker.describe());
    const total = await metricsOf(worker);
    expect(total("worker_model_requests_total", 'outcome="throttled"')).toBe(server.count(429));
    expect(total("worker_events_dead_lettered_total")).toBe(0);
  });

  it("a model outage loses nothing and dead-letters nothing; readiness says why meanwhile", async () => {
    const server = await modelServer();
    server.outage(600_000); // until the test ends it, once the worker has shown how it waits
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "outage", 5);
    const worker = modelWorker("outage", "outage", server);

    const circuitOpen = async () => (await readinessOf(worker).catch(() => ({ ready: true, reasons: [] }))).reasons.some((r) => r.includes("circuit open"));
    await waitFor("readiness to report the open circuit", circuitOpen, 30_000, () => worker.describe());
    const during = await readinessOf(worker);
    expect(during.ready).toBe(false);
    expect(during.reasons).toContainEqual(expect.stringMatching(/^no model deployment available, events wait: deployment "triage" circuit (open|half-open) \(last failure: 503\)$/));
    expect(worker.logs.some((l) => l.msg.startsWith('model deployment "triage" circuit open after repeated failures (503)'))).toBe(true);
    expect(worker.results).toHaveLength(0);
    server.endOutage();

    // The circuit probes again within its break (at most 30 s); then everything flows.
    await waitFor("every event after the outage", () => keysOf(worker.results).size >= sent.length, 60_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent));
    expect(server.count(503)).toBeGreaterThan(0);
    expect(await readDeadLetters(fixture.stack.storageConnectionString, fixture.stack.deadLetterContainer, "outage")).toHaveProperty("size", 0);
    await waitFor("checkpoints at the last event", checkpointedAll("outage", 4), 20_000, () => worker.describe());
    await waitFor("ready again", async () => (await readinessOf(worker)).ready, 20_000, () => worker.describe());
  }, 120_000);

  it("with the first of two deployments answering 503 to everything, every event goes through the second; ready, naming the one down", async () => {
    const down = await modelServer();
    down.outage(600_000);
    const up = await modelServer();
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "failover", 10);
    const worker = deploymentsWorker("failover", "failover", [{ name: "primary", server: down, priority: 0 }, { name: "secondary", server: up, priority: 1 }]);

    await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 40_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent));
    expect(new Set(worker.results.map((r) => (r.result as { deployment: string }).deployment))).toEqual(new Set(["secondary"]));
    expect(await readDeadLetters(fixture.stack.storageConnectionString, fixture.stack.deadLetterContainer, "failover")).toHaveProperty("size", 0);
    const readiness = (await readinessOf(worker)) as { ready: boolean; reasons: string[]; notes: string[] };
    expect(readiness.ready).toBe(true);
    expect(readiness.notes).toContainEqual(expect.stringMatching(/^deployment "primary" circuit (open|half-open) \(last failure: 503\); the other deployments carry the load$/));
    const total = await metricsOf(worker);
    expect(total("worker_model_requests_total", 'deployment="primary",outcome="failed"')).toBe(down.requests.length);
    expect(total("worker_model_requests_total", 'deployment="secondary",outcome="ok"')).toBe(sent.length);
    expect(total("worker_model_circuit_open", 'deployment="primary"')).toBe(1);
  });

  it("sends nothing to the priority-1 deployment while the priority-0 one has room", async () => {
    const first = await modelServer();
    const second = await modelServer();
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "priority", 10);
    const worker = deploymentsWorker("priority", "priority", [{ name: "provisioned", server: first, priority: 0 }, { name: "pay-as-you-go", server: second, priority: 1 }]);

    await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 40_000, () => worker.describe());
    expect(second.requests).toHaveLength(0);
    expect(first.count(200)).toBe(sent.length);
    expect(new Set(worker.results.map((r) => (r.result as { deployment: string }).deployment))).toEqual(new Set(["provisioned"]));
  });

  it("after a 429 with retry-after-ms 2000 no request arrives before the 2 s are over, from any partition", async () => {
    const server = await modelServer();
    server.script({ status: 429, retryAfterMs: 2000 });
    const worker = modelWorker("pause", "pause", server, { MODEL_INITIAL_CONCURRENCY: "1", MODEL_MAX_CONCURRENCY: "1" });
    // One request in flight at a time, so nothing was sent before the 429 came back; the events of the other
    // partitions find a free slot at once and must still wait for the pause.
    await sendToEveryPartition(fixture.stack.eventHubConnectionString, "pause", 1);
    await waitFor("the 429 to be counted", async () => (await metricsOf(worker).catch(() => () => 0))("worker_model_requests_total", 'outcome="throttled"') === 1, 30_000, () => worker.describe());
    const throttledAt = server.throttledAt[0] as number;
    await waitFor("every event", () => worker.results.length >= 4, 30_000, () => worker.describe());

    const after = server.requests.filter((r) => r.arrivedAt > throttledAt);
    expect(after.length).toBeGreaterThanOrEqual(4);
    expect(Math.min(...after.map((r) => r.arrivedAt)) - throttledAt).toBeGreaterThanOrEqual(2000);
  });

  it("an answer that breaks the JSON Schema is retried, then dead-lettered with its reason", async () => {
    const schemaPath = join(mkdtempSync(join(tmpdir(), "schema-")), "triage.schema.json");
    writeFileSync(schemaPath, JSON.stringify({ type: "object", properties: { urgency: { enum: ["low", "high"] } }, required: ["urgency"] }));
    // The third event of each partition ("Message 2 ...") gets an answer outside the schema, every time.
    const server = await modelServer({ answer: (text) => JSON.stringify({ urgency: text.includes("Message 2 ") ? "someday" : "high" }) });
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "schema", 4);
    const worker = modelWorker("schema", "schema", server, { MODEL_TASK: "structured", MODEL_JSON_SCHEMA: schemaPath, RETRY_MAX_ATTEMPTS: "3" });

    const bad = sent.filter((e) => e.sequenceNumber % 4 === 2);
    await waitFor("the good events", () => worker.results.length >= sent.length - bad.length, 40_000, () => worker.describe());
    await waitFor("checkpoints at the last event", checkpointedAll("schema", 3), 20_000, () => worker.describe());
    expect(worker.results.every((r) => (r.result as { output?: { urgency?: string } }).output?.urgency === "high")).toBe(true);
    const letters = await readDeadLetters(fixture.stack.storageConnectionString, fixture.stack.deadLetterContainer, "schema");
    expect(letters.size).toBe(bad.length);
    for (const letter of letters.values()) {
      expect(letter.error).toMatchObject({ name: "InvalidModelOutputError", attempts: 3, message: expect.stringMatching(/does not match MODEL_JSON_SCHEMA: \/urgency must be equal to one of the allowed values/) });
    }
    // Three attempts for each bad event; one for each good one.
    expect(server.requests).toHaveLength(sent.length - bad.length + 3 * bad.length);
  });

  it("embeddings send many events per request", async () => {
    const server = await modelServer();
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "embed", 40);
    const worker = modelWorker("embed", "embed", server, { MODEL_TASK: "embeddings", MAX_BATCH_SIZE: "40", MODEL_EMBEDDING_BATCH_SIZE: "16" });

    await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 40_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent));
    expect(worker.results.every((r) => Array.isArray((r.result as { embedding?: unknown }).embedding))).toBe(true);
    const inputsPerRequest = server.requests.map((r) => [r.body.input].flat().length);
    expect(inputsPerRequest.every((n) => n <= 16)).toBe(true);
    expect(Math.max(...inputsPerRequest)).toBe(16);
    expect(server.requests.length).toBeLessThanOrEqual(sent.length / 4);

    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });
});
