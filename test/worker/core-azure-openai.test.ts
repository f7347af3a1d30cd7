import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AzureOpenAIProcessor, retryAfterMs, type ChatResult } from "../../worker/processing/azure-openai";
import { createProcessor } from "../../worker/processing/create-processor";
import { PoisonEventError, retryAfterMsOf, ThrottledError, type EventInput } from "../../worker/processing/processor";
import { withRetry } from "../../worker/retry";
import { FakeOpenAIServer } from "../support/fake-openai-server";

const event: EventInput = {
  partitionId: "2", sequenceNumber: 7, offset: "700", enqueuedTimeUtc: new Date(0).toISOString(),
  body: { text: "Summarise: the order arrived late." }, properties: {},
};
const retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 2_000 };

describe("azure-openai processor against a local chat-completions server", () => {
  let server: FakeOpenAIServer;
  let processor: AzureOpenAIProcessor;
  beforeAll(async () => {
    server = await FakeOpenAIServer.start();
    processor = new AzureOpenAIProcessor({
      endpoint: server.endpoint, deployment: "gpt-test", apiVersion: "2024-10-21", apiKey: "test-key",
      systemPrompt: "You are a terse analyst.", maxConcurrency: 2, timeoutMs: 5_000,
    });
  });
  afterEach(() => {
    server.requests.length = 0;
  });
  afterAll(async () => {
    await processor.close();
    await server.close();
  });

  it("sends the system prompt and the event text to the deployment with the api-key header", async () => {
    const result = (await processor.process(event)) as ChatResult;
    expect(result).toEqual({
      model: "gpt-test-model",
      content: "echo: Summarise: the order arrived late.",
      usage: { promptTokens: 34, completionTokens: 3, totalTokens: 37 },
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

  it("turns 429 into a ThrottledError with the server's wait, which withRetry honours", async () => {
    server.script({ status: 429, retryAfterMs: 150 });
    const waits: number[] = [];
    const result = (await withRetry(() => processor.process(event), retry, {
      retryAfterMs: retryAfterMsOf,
      onRetry: (error, _attempt, delayMs) => {
        expect(error).toBeInstanceOf(ThrottledError);
        waits.push(delayMs);
      },
    })) as ChatResult;
    expect(result.finishReason).toBe("stop");
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(150);
    expect(server.requests).toHaveLength(2); // SDK retries are off: the two requests are withRetry's
  });

  it("reads Retry-After in seconds when no retry-after-ms is sent", async () => {
    server.script({ status: 429, retryAfterSeconds: 1 });
    const failure = await processor.process(event).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ThrottledError);
    expect(retryAfterMsOf(failure)).toBe(1_000);
    expect(server.requests).toHaveLength(1);
  });

  it("retries 500 as transient", async () => {
    server.script({ status: 500 }, { status: 500 });
    let attempts = 0;
    const result = (await withRetry((attempt) => ((attempts = attempt), processor.process(event)), retry)) as ChatResult;
    expect(result.content).toMatch(/^echo:/);
    expect(attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
  });

  it("turns 400 (content filter) into a PoisonEventError that is not retried", async () => {
    server.script({ status: 400, code: "content_filter" });
    let attempts = 0;
    const failure = await withRetry((attempt) => ((attempts = attempt), processor.process(event)), retry).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PoisonEventError);
    expect((failure as Error).message).toMatch(/rejected the event \(400 content_filter\)/);
    expect(attempts).toBe(1);
  });

  it("rejects a body without text as poison before calling the service", async () => {
    await expect(processor.process({ ...event, body: [1, 2, 3] })).rejects.toBeInstanceOf(PoisonEventError);
    expect(server.requests).toHaveLength(0);
  });

  it("sends an Entra ID bearer token for the Cognitive Services scope when given a credential", async () => {
    const scopes: string[][] = [];
    const credential: TokenCredential = {
      async getToken(scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
        scopes.push([scope].flat());
        return { token: "entra-token-123", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const entra = await createProcessor({
      kind: "azure-openai", endpoint: server.endpoint, deployment: "gpt-entra", apiVersion: "2024-10-21", credential,
      systemPrompt: "Be brief.", maxConcurrency: 1, timeoutMs: 5_000,
    });
    try {
      await entra.process(event);
      expect(server.requests[0]?.headers.authorization).toBe("Bearer entra-token-123");
      expect(server.requests[0]?.headers["api-key"]).toBeUndefined();
      expect(server.requests[0]?.deployment).toBe("gpt-entra");
      expect(scopes[0]).toEqual(["https://cognitiveservices.azure.com/.default"]);
    } finally {
      await entra.close();
    }
  });

  it("keeps at most maxConcurrency requests in flight", async () => {
    server.peakInFlight = 0;
    server.script(...Array.from({ length: 6 }, () => ({ status: 200 as const, delayMs: 30 })));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => processor.process({ ...event, body: `event ${i}` })));
    expect(results.map((r) => (r as ChatResult).content)).toEqual(Array.from({ length: 6 }, (_, i) => `echo: event ${i}`));
    expect(server.peakInFlight).toBe(2);
  });

  it("times a slow call out as a transient failure (retried, not dead-lettered at once)", async () => {
    const impatient = new AzureOpenAIProcessor({
      endpoint: server.endpoint, deployment: "gpt-test", apiVersion: "2024-10-21", apiKey: "test-key",
      systemPrompt: "", maxConcurrency: 1, timeoutMs: 100,
    });
    server.script({ status: 200, delayMs: 1_000 });
    const failure = await impatient.process(event).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).not.toBe("PoisonEventError");
    expect((failure as Error).message).toMatch(/timed out/i);
    await impatient.close();
  });

  it("needs exactly one of apiKey and credential", () => {
    expect(() => new AzureOpenAIProcessor({
      endpoint: server.endpoint, deployment: "d", apiVersion: "v", systemPrompt: "", maxConcurrency: 1, timeoutMs: 1_000,
    })).toThrow(/exactly one of apiKey or credential/);
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
