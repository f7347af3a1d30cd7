// The remote-model processors against a local model server (real HTTP, the real OpenAI SDK): request shapes
// for Azure OpenAI and OpenAI-compatible servers, how each answer is classified, structured output,
// embeddings packed into few requests, input budgets, and the circuit breaker.
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeModelServer } from "../../../../bench/fake-model-server";
import { createModelProcessor } from "../../../../worker/processing/model/model-processor";
import type { ModelTask } from "../../../../worker/processing/model/model-settings";
import type { ChatResult } from "../../../../worker/processing/model/chat-processor";
import type { EmbeddingResult } from "../../../../worker/processing/model/embeddings-processor";
import type { ModelConnection } from "../../../../worker/processing/model/model-endpoint";
import { retryAfterMs } from "../../../../worker/processing/model/model-failures";
import { isPoisonEventError, isTransientFailure, PoisonEventError, retryAfterMsOf, ThrottledError } from "../../../../worker/failures";
import type { EventInput, Processor } from "../../../../worker/processing/processor";

const event: EventInput = {
  partitionId: "2", sequenceNumber: 7, offset: "700", enqueuedTimeUtc: new Date(0).toISOString(),
  body: { text: "Summarise: the order arrived late." }, properties: {},
};
const budget = { maxInputTokens: 8000, overflow: "truncate" as const };
const chat: ModelTask = { kind: "chat", systemPrompt: "You are a terse analyst.", budget };

let server: FakeModelServer;
const opened: Processor[] = [];

function azure(extra: Partial<Extract<ModelConnection, { provider: "azure-openai" }>> = {}): ModelConnection {
  return { provider: "azure-openai", endpoint: server.endpoint, deployment: "gpt-test", apiVersion: "2024-10-21", apiKey: "test-key", ...extra };
}

async function processorFor(connection: ModelConnection, task: ModelTask = chat, options: { timeoutMs?: number; maxConcurrency?: number } = {}): Promise<Processor> {
  const { processor } = createModelProcessor("model", {
    deployments: [{ name: "primary", connection, priority: 0, weight: 1, quota: {} }],
    timeoutMs: options.timeoutMs ?? 5_000,
    governor: { maxConcurrency: options.maxConcurrency ?? 8, initialConcurrency: Math.min(4, options.maxConcurrency ?? 8) },
    task,
  });
  opened.push(processor);
  return processor;
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

beforeAll(async () => {
  server = await FakeModelServer.start();
});
afterEach(async () => {
  server.requests.length = 0;
  server.endOutage();
  await Promise.all(opened.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await server.close();
});

describe("chat on Azure OpenAI and OpenAI-compatible servers", () => {
  it("sends the system prompt and the event text to the Azure deployment with the api-key header", async () => {
    const result = (await (await processorFor(azure())).process(event)) as ChatResult;
    expect(result).toEqual({
      deployment: "primary",
      model: "gpt-test-model",
      content: "echo: Summarise: the order arrived late.",
      usage: { promptTokens: 15, completionTokens: 10, totalTokens: 25 },
      finishReason: "stop",
    });
    const [request] = server.requests;
    expect(request?.deployment).toBe("gpt-test");
    expect(request?.apiVersion).toBe("2024-10-21");
    expect(request?.headers["api-key"]).toBe("test-key");
    expect(request?.body.messages).toEqual([
      { role: "system", content: "You are a terse analyst." },
      { role: "user", content: "Summarise: the order arrived late." },
    ]);
  });

  it("calls an OpenAI-compatible base URL with the model name and a bearer key", async () => {
    const processor = await processorFor({ provider: "openai", baseUrl: server.baseUrl, model: "llama3.1", apiKey: "local" });
    const result = (await processor.process(event)) as ChatResult;
    expect(result.content).toBe("echo: Summarise: the order arrived late.");
    expect(server.requests[0]?.deployment).toBeUndefined();
    expect(server.requests[0]?.body.model).toBe("llama3.1");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer local");
  });

  it("sends an Entra ID bearer token for the Cognitive Services scope when given a credential", async () => {
    const scopes: string[][] = [];
    const credential: TokenCredential = {
      async getToken(scope: string | string[]): Promise<AccessToken> {
        scopes.push([scope].flat());
        return { token: "entra-token-123", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const { apiKey: _none, ...keyless } = azure() as Extract<ModelConnection, { provider: "azure-openai" }>;
    await (await processorFor({ ...keyless, credential })).process(event);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer entra-token-123");
    expect(server.requests[0]?.headers["api-key"]).toBeUndefined();
    expect(scopes[0]).toEqual(["https://cognitiveservices.azure.com/.default"]);
  });

  it("needs exactly one of apiKey and credential for Azure", async () => {
    const { apiKey: _none, ...keyless } = azure() as Extract<ModelConnection, { provider: "azure-openai" }>;
    await expect(processorFor(keyless)).rejects.toThrow(/exactly one of apiKey or credential/);
  });
});

describe("what each answer means for the event", () => {
  it("429 is a ThrottledError (transient) carrying the service's wait, in ms or in seconds", async () => {
    const processor = await processorFor(azure());
    server.script({ status: 429, retryAfterMs: 150 }, { status: 429, retryAfterSeconds: 1 });
    const first = await failureOf(processor.process(event));
    expect(first).toBeInstanceOf(ThrottledError);
    expect(isTransientFailure(first)).toBe(true);
    expect(retryAfterMsOf(first)).toBe(150);
    const second = await failureOf(processor.process(event));
    expect(retryAfterMsOf(second)).toBe(1_000);
    expect(server.requests).toHaveLength(2); // the SDK's own retries are off
  });

  it("5xx, 401 and timeouts are transient: the event waits, it is never dead-lettered for them", async () => {
    const processor = await processorFor(azure());
    server.script({ status: 500 }, { status: 401, message: "Access denied due to invalid subscription key." });
    const serverError = await failureOf(processor.process(event));
    const unauthorised = (await failureOf(processor.process(event))) as Error;
    expect(isTransientFailure(serverError)).toBe(true);
    expect(isTransientFailure(unauthorised)).toBe(true);
    expect(unauthorised.message).toMatch(/deployment "primary" failed \(401\) \(check the key, or the identity's Cognitive Services OpenAI User role\)/);

    const impatient = await processorFor(azure(), chat, { timeoutMs: 100 });
    server.script({ status: 200, delayMs: 1_000 });
    const timeout = (await failureOf(impatient.process(event))) as Error;
    expect(isTransientFailure(timeout)).toBe(true);
    expect(timeout.message).toMatch(/timed out/i);
  });

  it("400 (content filter) is poison, and so is a body without text, which is never sent", async () => {
    const processor = await processorFor(azure());
    server.script({ status: 400, code: "content_filter" });
    const filtered = await failureOf(processor.process(event));
    expect(filtered).toBeInstanceOf(PoisonEventError);
    expect((filtered as Error).message).toMatch(/rejected the event \(400 content_filter\)/);
    await expect(processor.process({ ...event, body: [1, 2, 3] })).rejects.toBeInstanceOf(PoisonEventError);
    expect(server.requests).toHaveLength(1);
  });

  it("opens the circuit after repeated outage failures: the next request waits unsent, and an abort settles it unsent", async () => {
    const processor = await processorFor(azure());
    server.outage(60_000);
    for (let i = 0; i < 5; i++) expect(isTransientFailure(await failureOf(processor.process(event)))).toBe(true);
    const sent = server.requests.length;
    expect(processor.unavailable?.()).toMatch(/^no model deployment available, events wait: deployment "primary" circuit open \(last failure: 503\)/);
    const controller = new AbortController();
    const held = failureOf(processor.process(event, controller.signal));
    controller.abort(new Error("shutting down"));
    expect(((await held) as Error).message).toBe("shutting down");
    expect(server.requests).toHaveLength(sent);
  });
});

describe("structured output", () => {
  const schema = { type: "object", properties: { intent: { type: "string" }, urgency: { enum: ["low", "high"] } }, required: ["intent", "urgency"], additionalProperties: false };
  const structured: ModelTask = { kind: "chat", systemPrompt: "Triage.", budget, jsonSchema: { name: "triage", schema } };

  it("asks for the schema and returns the parsed, validated object", async () => {
    server.script({ status: 200, content: '{"intent":"refund","urgency":"high"}' });
    const result = (await (await processorFor(azure(), structured)).process(event)) as ChatResult;
    expect(result.output).toEqual({ intent: "refund", urgency: "high" });
    expect(result.content).toBeUndefined();
    expect(server.requests[0]?.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "triage", schema, strict: true } });
  });

  it("an answer that breaks the schema is an ordinary failure that says why (retried, then dead-lettered)", async () => {
    const processor = await processorFor(azure(), structured);
    server.script({ status: 200, content: '{"intent":"refund","urgency":"someday"}' }, { status: 200, content: "Sure! Here is" });
    const invalid = (await failureOf(processor.process(event))) as Error;
    expect(invalid.name).toBe("InvalidModelOutputError");
    expect(invalid.message).toMatch(/does not match MODEL_JSON_SCHEMA: \/urgency must be equal to one of the allowed values/);
    expect(isTransientFailure(invalid) || isPoisonEventError(invalid)).toBe(false);
    expect(((await failureOf(processor.process(event))) as Error).message).toMatch(/not JSON/);
  });
});

describe("input budget", () => {
  const long = { ...event, body: "word ".repeat(400) };

  it("truncates an over-long text to MODEL_MAX_INPUT_TOKENS and says so in the result", async () => {
    const processor = await processorFor(azure(), { ...chat, budget: { maxInputTokens: 50, overflow: "truncate" } });
    const result = (await processor.process(long)) as ChatResult;
    expect(result.truncated).toBe(true);
    const sentText = server.requests[0]?.body.messages?.find((m) => m.role === "user")?.content ?? "";
    expect(sentText.length).toBeLessThan(long.body.length / 4);
  });

  it("or dead-letters it without sending it, when the setting says so", async () => {
    const processor = await processorFor(azure(), { ...chat, budget: { maxInputTokens: 50, overflow: "dead-letter" } });
    const failure = (await failureOf(processor.process(long))) as Error;
    expect(failure).toBeInstanceOf(PoisonEventError);
    expect(failure.message).toMatch(/input has \d+ tokens, over MODEL_MAX_INPUT_TOKENS=50/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("embeddings", () => {
  it("packs a batch into requests of at most the configured inputs, and maps each vector back to its event", async () => {
    const processor = await processorFor(
      { provider: "openai", baseUrl: server.baseUrl, model: "text-embedding-3-small" },
      { kind: "embeddings", maxInputsPerRequest: 16, maxTokensPerRequest: 100_000, dimensions: 4, budget },
    );
    const inputs = Array.from({ length: 40 }, (_, i) => ({ ...event, sequenceNumber: i, body: { text: `event number ${"x".repeat(i)}` } }));
    const settlements = await processor.processMany?.(inputs);
    expect(server.requests.map((r) => [r.kind, [r.body.input].flat().length])).toEqual([["embeddings", 16], ["embeddings", 16], ["embeddings", 8]]);
    expect(settlements).toHaveLength(40);
    settlements?.forEach((settlement, i) => {
      expect(settlement.ok).toBe(true);
      if (!settlement.ok) return;
      const result = JSON.parse(settlement.json) as EmbeddingResult;
      expect(result.embedding).toHaveLength(4);
      expect(result.embedding[0]).toBe(`event number ${"x".repeat(i)}`.length); // the fake encodes the input's length first
    });
  });

  it("settles an event without text on its own, and sends the rest", async () => {
    const processor = await processorFor(azure({ deployment: "embed" }), { kind: "embeddings", maxInputsPerRequest: 16, maxTokensPerRequest: 100_000, budget });
    const settlements = (await processor.processMany?.([event, { ...event, body: 42 }, event])) ?? [];
    expect(settlements.map((s) => s.ok)).toEqual([true, false, true]);
    expect(server.requests).toHaveLength(1);
    expect([server.requests[0]?.body.input].flat()).toHaveLength(2);
  });
});

describe("retryAfterMs header parsing", () => {
  it("prefers retry-after-ms, then seconds, then an HTTP date", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2_000);
    const now = Date.parse("2024-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Mon, 01 Jan 2024 00:00:03 GMT" }), now)).toBe(3_000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
  });
});
