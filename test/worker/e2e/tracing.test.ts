// Tracing end to end: real worker processes against the emulator and Azurite export OTLP over HTTP (JSON) to a
// receiver started here. The batch span links to each event's producer span (from its Diagnostic-Id), a model
// call is a child span with token usage, a dead letter records its reason, the Azure SDK's spans join the same
// traces, `npm run send` starts the traces the worker continues, APPLICATIONINSIGHTS_CONNECTION_STRING sends
// them to a stand-in Application Insights ingestion endpoint, and with tracing off or disabled nothing is exported.
import { randomBytes } from "node:crypto";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeModelServer } from "../../../bench/fake-model-server";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { AppInsightsReceiver } from "../../support/app-insights-receiver";
import { fourPartitionHubs, keysOf, sendToEveryPartition } from "../../support/hub-fixtures";
import { OtlpReceiver, type ReceivedSpan } from "../../support/otlp-receiver";
import { runProgram } from "../../support/program";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, WorkerFleet } from "../../support/worker-process";

let stack: LocalStack;
let receiver: OtlpReceiver;
const servers: FakeModelServer[] = [];
const workers = new WorkerFleet(() => stack.env());

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("traced", "model", "sent", "azmon", "disabled", "off") });
  receiver = await OtlpReceiver.start();
});
afterEach(async () => {
  await workers.disposeAll();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

/** Exports every 200 ms to the receiver. */
const tracingEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "worker-under-test", OTEL_BSP_SCHEDULE_DELAY: "200" });

/** A producer span context as the Azure SDK stamps it on a sent event. */
function producerContext(): { traceId: string; spanId: string; diagnosticId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, diagnosticId: `00-${traceId}-${spanId}-01` };
}

/** Sends events to partition 0, each with its own Diagnostic-Id; the ones at `poison` indexes are cut-off JSON. */
async function sendStamped(hub: string, count: number, poison: number[] = []): Promise<Array<ReturnType<typeof producerContext>>> {
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, hub);
  try {
    const contexts = Array.from({ length: count }, producerContext);
    const batch = await producer.createBatch({ partitionId: "0" });
    contexts.forEach((context, i) => {
      const json = JSON.stringify({ text: `traced message ${i}: the parcel arrived broken` });
      const added = batch.tryAdd({
        body: Buffer.from(poison.includes(i) ? json.slice(0, 10) : json),
        contentType: "application/json",
        messageId: `traced-${i}`,
        properties: { "Diagnostic-Id": context.diagnosticId },
      });
      if (!added) throw new Error("batch full");
    });
    await producer.sendBatch(batch);
    return contexts;
  } finally {
    await producer.close();
  }
}

const linked = (span: ReceivedSpan, context: { traceId: string; spanId: string }) =>
  span.links.some((l) => l.traceId === context.traceId && l.spanId === context.spanId);

describe("worker tracing", () => {
  it("links each batch span to the producers' spans, records dead letters with their reason, and the Azure SDK's spans join", async () => {
    const contexts = await sendStamped("traced", 5, [3]);
    const worker = workers.start("traced", "traced", tracingEnv());
    const poison = contexts[3] as ReturnType<typeof producerContext>;

    await waitFor(
      "batch spans linking every event and the dead letter's span",
      () => contexts.every((c) => receiver.named("process traced").some((s) => linked(s, c))) && receiver.named("dead letter").some((s) => linked(s, poison)),
      60_000,
      () => `${receiver.describe()}\n${worker.describe()}`,
    );
    const batch = receiver.named("process traced").find((s) => linked(s, contexts[0] as ReturnType<typeof producerContext>)) as ReceivedSpan;
    expect(batch.service).toBe("worker-under-test");
    expect(batch.kind).toBe(5); // consumer
    expect(batch.attributes).toMatchObject({
      "messaging.system": "eventhubs",
      "messaging.operation.type": "process",
      "messaging.destination.name": "traced",
      "messaging.destination.partition.id": "0",
      "messaging.consumer.group.name": "ai-workers",
    });
    expect(batch.attributes["messaging.batch.message_count"]).toBeGreaterThanOrEqual(1);

    const deadLetter = receiver.named("dead letter").find((s) => linked(s, poison)) as ReceivedSpan;
    expect(deadLetter.attributes["worker.dead_letter.reason"]).toMatch(/JSON/);
    expect(deadLetter.attributes).toMatchObject({ "messaging.message.id": "traced-3", "messaging.destination.partition.id": "0" });
    const poisonBatch = receiver.named("process traced").find((s) => linked(s, poison)) as ReceivedSpan;
    expect(deadLetter.traceId).toBe(poisonBatch.traceId);
    expect(poisonBatch.attributes["worker.batch.dead_lettered"]).toBe(1);

    // The dead letter's blob upload, traced by the Azure SDK, is a child of the dead letter span.
    expect(receiver.spans.some((s) => s.parentSpanId === deadLetter.spanId && s.traceId === deadLetter.traceId), receiver.describe()).toBe(true);
    // The sink write belongs to a batch's trace.
    await waitFor("a sink write span", () => receiver.named("sink write").length > 0, 30_000, () => receiver.describe());
    const batchSpanIds = new Set(receiver.named("process traced").map((s) => s.spanId));
    expect(receiver.named("sink write").some((s) => batchSpanIds.has(s.parentSpanId))).toBe(true);

    // A checkpoint span, at the latest from the drain on SIGTERM (the tracer flushes before exit).
    worker.signal("SIGTERM");
    expect((await exitOf(worker, 30_000)).code).toBe(0);
    await waitFor("a checkpoint span", () => receiver.named("checkpoint traced").length > 0, 10_000, () => receiver.describe());
    expect(receiver.named("checkpoint traced")[0]?.attributes).toMatchObject({ "messaging.operation.name": "checkpoint", "messaging.destination.partition.id": "0" });
  });

  it("a model call is a child span of its batch with the generative-AI attributes; a 429 is recorded with its wait", async () => {
    const server = await FakeModelServer.start();
    servers.push(server);
    server.script({ status: 429, retryAfterMs: 300 });
    const [context] = await sendStamped("model", 1);
    const worker = workers.start("model", "model", {
      ...tracingEnv(),
      PROCESSOR: "azure-openai",
      AZURE_OPENAI_ENDPOINT: server.endpoint,
      AZURE_OPENAI_DEPLOYMENT: "triage",
      AZURE_OPENAI_API_KEY: "test-key",
    });

    await waitFor("the result", () => worker.results.length >= 1, 60_000, () => worker.describe());
    await waitFor("a successful model call span", () => receiver.named("chat triage").some((s) => s.attributes["gen_ai.usage.output_tokens"] !== undefined), 30_000, () => receiver.describe());
    const calls = receiver.named("chat triage");
    const ok = calls.find((s) => s.attributes["gen_ai.usage.output_tokens"] !== undefined) as ReceivedSpan;
    expect(ok.kind).toBe(3); // client
    expect(ok.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "az.ai.openai",
      "gen_ai.request.model": "triage",
      "gen_ai.response.finish_reasons": ["stop"],
    });
    expect(ok.attributes["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
    expect(ok.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);

    const throttled = calls.find((s) => s.events.some((e) => e.name === "gen_ai.throttled"));
    expect(throttled, receiver.describe()).toBeDefined();
    expect(throttled?.attributes["http.response.status_code"]).toBe(429);
    expect(throttled?.status.code).toBe(2); // error
    expect(throttled?.events.find((e) => e.name === "gen_ai.throttled")?.attributes["worker.retry_after_ms"]).toBe(300);

    await waitFor("the batch span", () => receiver.named("process model").some((s) => linked(s, context as ReturnType<typeof producerContext>)), 30_000, () => receiver.describe());
    const batch = receiver.named("process model").find((s) => linked(s, context as ReturnType<typeof producerContext>)) as ReceivedSpan;
    expect(ok.parentSpanId).toBe(batch.spanId);
    expect(throttled?.parentSpanId).toBe(batch.spanId);
  });

  it("npm run send starts a trace per event that the worker's batch spans link to", async () => {
    const send = await runProgram("tools/send.ts", ["--count", "8", "--rate", "0", "--partition-key-mode", "round-robin"], {
      EVENTHUB_CONNECTION_STRING: stack.eventHubConnectionString,
      EVENTHUB_NAME: "sent",
      ...tracingEnv(),
      OTEL_SERVICE_NAME: "producer-under-test",
    });
    expect(send.status, send.stderr).toBe(0);
    // The Azure SDK's message span per event (producer kind), each the root of the event's trace.
    const produced = receiver.spans.filter((s) => s.service === "producer-under-test" && s.kind === 4);
    expect(produced, receiver.describe()).toHaveLength(8);
    expect(produced.every((s) => s.parentSpanId === "")).toBe(true);

    const worker = workers.start("sent", "sent", tracingEnv());
    await waitFor("batch spans linking every sent event", () => produced.every((p) => receiver.named("process sent").some((s) => linked(s, p))), 60_000, () => `${receiver.describe()}\n${worker.describe()}`);
    await waitFor("every result", () => keysOf(worker.results).size === 8, 30_000, () => worker.describe());
  });

  it("APPLICATIONINSIGHTS_CONNECTION_STRING sends the traces and the worker's metrics to Application Insights", async () => {
    const insights = await AppInsightsReceiver.start();
    try {
      const [context] = await sendStamped("azmon", 2);
      const worker = workers.start("azmon", "azmon", {
        APPLICATIONINSIGHTS_CONNECTION_STRING: insights.connectionString,
        NODE_EXTRA_CA_CERTS: insights.certificateFile,
        // Every trace (the distro's default is 5 a second, and a fresh limiter has no budget yet).
        OTEL_TRACES_SAMPLER: "always_on",
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
      });
      await waitFor("every result", () => worker.results.length >= 2, 60_000, () => worker.describe());
      worker.signal("SIGTERM");
      expect((await exitOf(worker, 30_000)).code).toBe(0);
      // The batch's consumer span is a request in Application Insights, its producer link kept as _MS.links.
      const batch = insights.ofType("Request").find((e) => e.data?.baseData?.properties?.["messaging.destination.name"] === "azmon");
      expect(batch, insights.describe()).toBeDefined();
      const links = JSON.parse(batch?.data?.baseData?.properties?.["_MS.links"] ?? "[]") as Array<{ operation_Id: string; id: string }>;
      expect(links).toContainEqual({ operation_Id: context?.traceId, id: context?.spanId });
      const sinkWrite = insights.ofType("RemoteDependency").find((e) => e.data?.baseData?.name === "sink write");
      expect(sinkWrite?.tags?.["ai.operation.id"], insights.describe()).toBe(batch?.tags?.["ai.operation.id"]);
      // The worker's own metrics go along (nothing scrapes /metrics in Container Apps), under their Prometheus names.
      const metric = (name: string) => insights.ofType("Metric").filter((e) => e.data?.baseData?.metrics?.[0]?.name === name);
      expect(metric("worker_events_processed_total").some((e) => e.data?.baseData?.properties?.partition === "0"), insights.describe()).toBe(true);
      expect(metric("worker_end_to_end_latency_seconds_count").length).toBeGreaterThan(0);
      expect(metric("worker_owned_partitions").length).toBeGreaterThan(0);
    } finally {
      await insights.close();
    }
  });

  it("exports nothing when OTEL_SDK_DISABLED=true, and starts no tracing when no OTEL_* is set", async () => {
    const disabledSent = await sendToEveryPartition(stack.eventHubConnectionString, "disabled", 3);
    const offSent = await sendToEveryPartition(stack.eventHubConnectionString, "off", 3);
    const disabled = workers.start("disabled", "disabled", { ...tracingEnv(), OTEL_SERVICE_NAME: "disabled-worker", OTEL_SDK_DISABLED: "true" });
    const off = workers.start("off", "off");

    await waitFor("every event", () => keysOf(disabled.results).size >= disabledSent.length && keysOf(off.results).size >= offSent.length, 60_000, () => `${disabled.describe()}\n${off.describe()}`);
    disabled.signal("SIGTERM");
    off.signal("SIGTERM");
    expect((await exitOf(disabled, 30_000)).code).toBe(0);
    expect((await exitOf(off, 30_000)).code).toBe(0);
    expect(receiver.spans.filter((s) => s.service === "disabled-worker")).toEqual([]);
    expect(receiver.spans.filter((s) => String(s.attributes["messaging.destination.name"]).match(/^(disabled|off)$/))).toEqual([]);
    for (const worker of [disabled, off]) expect(worker.logs.some((l) => typeof l.tracing === "string")).toBe(false);
  });
});
