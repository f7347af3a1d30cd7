// A local model server that behaves like Azure OpenAI where the worker can tell: the Azure routes
// (/openai/deployments/<d>/chat/completions|embeddings) and the OpenAI-compatible ones (/v1/chat/completions,
// /v1/embeddings); a quota of requests and tokens per minute enforced over short fixed windows, as Azure
// does, with 429 + retry-after-ms/retry-after and x-ratelimit-remaining-requests/-tokens on every answer;
// latency that grows with tokens; outages (503); and scripted replies for tests. Used by the tests and by
// `npm run bench -- --scenario quota`. Tokens are counted as the service's admission estimate: about four
// characters a token for the prompt, plus max_completion_tokens (or the configured answer length).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeModelOptions {
  /** Omit for no quota. */
  quota?: { requestsPerMinute?: number; tokensPerMinute?: number; windowMs?: number };
  /** Answer latency: base + per prompt token + per completion token. */
  latency?: { baseMs: number; perPromptTokenMs?: number; perCompletionTokenMs?: number };
  /** Completion tokens of a default chat answer (its content is padded to about this length). */
  completionTokens?: number;
  /** The content of a chat answer for a user message (default: an echo). */
  answer?: (userText: string, request: RecordedRequest) => string;
}

export type ScriptedReply =
  | { status: 200; content?: string; finishReason?: string; delayMs?: number }
  | { status: 429; retryAfterSeconds?: number; retryAfterMs?: number }
  | { status: 400; code?: string; message?: string }
  | { status: 401 | 500 | 503; message?: string };

export interface RecordedRequest {
  kind: "chat" | "embeddings";
  method: string;
  /** Azure deployment from the path, or undefined on the OpenAI routes. */
  deployment: string | undefined;
  apiVersion: string | null;
  headers: IncomingHttpHeaders;
  body: {
    model?: string;
    messages?: Array<{ role: string; content: string }>;
    input?: string | string[];
    response_format?: { type: string };
    max_completion_tokens?: number;
    max_tokens?: number;
    dimensions?: number;
  };
  /** Date.now() when the request arrived, and the status it was answered with. */
  arrivedAt: number;
  status?: number;
}

const approxTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export class FakeModelServer {
  readonly requests: RecordedRequest[] = [];
  /** Date.now() of each 429 sent, in order. */
  readonly throttledAt: number[] = [];
  peakInFlight = 0;
  private inFlight = 0;
  private readonly replies: ScriptedReply[] = [];
  private outageUntil = 0;
  private window = { index: -1, requests: 0, tokens: 0 };

  private constructor(
    private readonly server: Server,
    private readonly options: FakeModelOptions,
  ) {}

  static async start(options: FakeModelOptions = {}): Promise<FakeModelServer> {
    let fake: FakeModelServer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => fake?.handle(req.method ?? "", req.url ?? "/", req.headers, Buffer.concat(chunks), res));
    });
    fake = new FakeModelServer(server, options);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  private get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The `endpoint` for Azure OpenAI, e.g. http://127.0.0.1:12345/ */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The base URL of the OpenAI-compatible routes, e.g. http://127.0.0.1:12345/v1 */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Queues replies for the next requests, in order (they bypass the quota). */
  script(...replies: ScriptedReply[]): void {
    this.replies.push(...replies);
  }

  /** Every request answers 503 for the next `ms` milliseconds. */
  outage(ms: number): void {
    this.outageUntil = Date.now() + ms;
  }

  endOutage(): void {
    this.outageUntil = 0;
  }

  count(status: number): number {
    return this.requests.filter((r) => r.status === status).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private handle(method: string, rawUrl: string, headers: IncomingHttpHeaders, raw: Buffer, res: ServerResponse): void {
    const url = new URL(rawUrl, "http://localhost");
    const azure = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    const openai = /^\/v1\/(chat\/completions|embeddings)$/.exec(url.pathname);
    const route = azure?.[2] ?? openai?.[1];
    if (method !== "POST" || !route) {
      json(res, 404, { error: { code: "NotFound", message: `no route for ${method} ${url.pathname}` } });
      return;
    }
    const request: RecordedRequest = {
      kind: route === "embeddings" ? "embeddings" : "chat",
      method,
      deployment: azure?.[1],
      apiVersion: url.searchParams.get("api-version"),
      headers,
      body: JSON.parse(raw.toString("utf8") || "{}") as RecordedRequest["body"],
      arrivedAt: Date.now(),
    };
    this.requests.push(request);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.on("close", () => this.inFlight--);
    const answer = (status: number, payload: unknown, extra: Record<string, string> = {}, delayMs = 0) => {
      request.status = status;
      if (status === 429) this.throttledAt.push(request.arrivedAt);
      setTimeout(() => json(res, status, payload, extra), delayMs);
    };

    const scripted = this.replies.shift();
    if (scripted) {
      this.scriptedReply(scripted, request, answer);
      return;
    }
    if (Date.now() < this.outageUntil) {
      answer(503, { error: { code: "ServiceUnavailable", message: "The service is temporarily unable to process your request." } });
      return;
    }
    const promptTokens = this.promptTokens(request);
    const completionTokens = request.kind === "chat" ? (request.body.max_completion_tokens ?? request.body.max_tokens ?? this.options.completionTokens ?? 16) : 0;
    const admission = this.admit(promptTokens + completionTokens);
    if (!admission.ok) {
      answer(429, { error: { code: "429", message: admission.message } }, admission.headers);
      return;
    }
    const { baseMs = 0, perPromptTokenMs = 0, perCompletionTokenMs = 0 } = this.options.latency ?? {};
    const delayMs = baseMs + promptTokens * perPromptTokenMs + completionTokens * perCompletionTokenMs;
    if (request.kind === "embeddings") answer(200, this.embeddings(request, promptTokens), admission.headers, delayMs);
    else answer(200, this.completion(request, undefined, promptTokens), admission.headers, delayMs);
  }

  /** Fixed windows, as Azure evaluates quotas over 1 or 10 s: admit, or say which limit was hit and until when. */
  private admit(tokens: number): { ok: true; headers: Record<string, string> } | { ok: false; message: string; headers: Record<string, string> } {
    const quota = this.options.quota;
    if (!quota) return { ok: true, headers: {} };
    const windowMs = quota.windowMs ?? 1000;
    const now = Date.now();
    const index = Math.floor(now / windowMs);
    if (index !== this.window.index) this.window = { index, requests: 0, tokens: 0 };
    const requestLimit = quota.requestsPerMinute === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((quota.requestsPerMinute * windowMs) / 60_000));
    const tokenLimit = quota.tokensPerMinute === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((quota.tokensPerMinute * windowMs) / 60_000));
    const remaining = () => {
      const headers: Record<string, string> = {};
      if (Number.isFinite(requestLimit)) headers["x-ratelimit-remaining-requests"] = String(Math.max(0, requestLimit - this.window.requests));
      if (Number.isFinite(tokenLimit)) headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tokenLimit - this.window.tokens));
      return headers;
    };
    const overRequests = this.window.requests + 1 > requestLimit;
    const overTokens = this.window.tokens + tokens > tokenLimit;
    if (overRequests || overTokens) {
      const waitMs = (index + 1) * windowMs - now;
      return {
        ok: false,
        message: `Requests to the ChatCompletions_Create Operation have exceeded ${overTokens ? "token" : "call"} rate limit of your current pricing tier. Please retry after ${Math.ceil(waitMs / 1000)} second(s).`,
        headers: { ...remaining(), "retry-after-ms": String(waitMs), "retry-after": String(Math.ceil(waitMs / 1000)) },
      };
    }
    this.window.requests += 1;
    this.window.tokens += tokens;
    return { ok: true, headers: remaining() };
  }

  private promptTokens(request: RecordedRequest): number {
    if (request.kind === "embeddings") return [request.body.input ?? []].flat().reduce((sum, text) => sum + approxTokens(text), 0);
    return (request.body.messages ?? []).reduce((sum, m) => sum + approxTokens(m.content), 0);
  }

  private scriptedReply(reply: ScriptedReply, request: RecordedRequest, answer: (status: number, payload: unknown, headers?: Record<string, string>, delayMs?: number) => void): void {
    switch (reply.status) {
      case 200:
        answer(200, request.kind === "embeddings" ? this.embeddings(request, 1) : this.completion(request, reply, this.promptTokens(request)), {}, reply.delayMs ?? 0);
        return;
      case 429: {
        const headers: Record<string, string> = {};
        if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
        if (reply.retryAfterMs !== undefined) headers["retry-after-ms"] = String(reply.retryAfterMs);
        answer(429, { error: { code: "429", message: "Rate limit is exceeded. Try again later." } }, headers);
        return;
      }
      case 400:
        answer(400, { error: { code: reply.code ?? "content_filter", message: reply.message ?? "The response was filtered due to the prompt triggering content management policy." } });
        return;
      default:
        answer(reply.status, { error: { code: String(reply.status), message: reply.message ?? "The server had an error." } });
    }
  }

  private completion(request: RecordedRequest, reply: { content?: string; finishReason?: string } | undefined, promptTokens: number): unknown {
    const userText = request.body.messages?.find((m) => m.role === "user")?.content ?? "";
    const content = reply?.content ?? this.options.answer?.(userText, request) ?? `echo: ${userText}`;
    const model = request.deployment ?? request.body.model ?? "model";
    return {
      id: `chatcmpl-${this.requests.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: `${model}-model`,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: reply?.finishReason ?? "stop" }],
      usage: { prompt_tokens: promptTokens, completion_tokens: approxTokens(content), total_tokens: promptTokens + approxTokens(content) },
    };
  }

  /** A deterministic vector per input, so a test can tell which input a vector belongs to. */
  private embeddings(request: RecordedRequest, promptTokens: number): unknown {
    const inputs = [request.body.input ?? []].flat();
    const dimensions = request.body.dimensions ?? 8;
    return {
      object: "list",
      model: `${request.deployment ?? request.body.model ?? "embedding"}-model`,
      data: inputs.map((text, index) => ({
        object: "embedding",
        index,
        embedding: Array.from({ length: dimensions }, (_, d) => (d === 0 ? text.length : (text.charCodeAt(d % Math.max(1, text.length)) || 0) / 128)),
      })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }
}

function json(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(payload));
}
