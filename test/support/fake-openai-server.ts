import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server speaking the Azure OpenAI chat-completions API
 * (`POST /openai/deployments/<deployment>/chat/completions?api-version=...`) for processor tests.
 * Replies are scripted in order (then the default success); every request is recorded for assertions.
 */
export type ScriptedReply =
  | { status: 200; content?: string; finishReason?: string; delayMs?: number }
  | { status: 429; retryAfterSeconds?: number; retryAfterMs?: number }
  | { status: 400; code?: string; message?: string }
  | { status: 500 | 503; message?: string };

export interface RecordedRequest {
  method: string;
  deployment: string | undefined;
  apiVersion: string | null;
  headers: IncomingHttpHeaders;
  body: { model?: string; messages?: Array<{ role: string; content: string }> };
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  /** Most requests seen in progress at once. */
  peakInFlight = 0;
  private inFlight = 0;
  private readonly replies: ScriptedReply[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeOpenAIServer> {
    const fake: FakeOpenAIServer = new FakeOpenAIServer(createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const match = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
        if (req.method !== "POST" || !match) {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { code: "NotFound", message: `no route for ${req.method} ${url.pathname}` } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as RecordedRequest["body"];
        fake.requests.push({ method: req.method, deployment: match[1], apiVersion: url.searchParams.get("api-version"), headers: req.headers, body });
        fake.inFlight++;
        fake.peakInFlight = Math.max(fake.peakInFlight, fake.inFlight);
        res.on("close", () => fake.inFlight--);
        const reply = fake.replies.shift() ?? { status: 200 };
        const delayMs = reply.status === 200 ? (reply.delayMs ?? 0) : 0;
        setTimeout(() => fake.reply(reply, body, match[1] ?? "", res), delayMs);
      });
    }));
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** e.g. http://127.0.0.1:12345/ : the `endpoint` for AzureOpenAI. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Queues replies for the next requests, in order. */
  script(...replies: ScriptedReply[]): void {
    this.replies.push(...replies);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private reply(reply: ScriptedReply, body: RecordedRequest["body"], deployment: string, res: import("node:http").ServerResponse): void {
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    };
    switch (reply.status) {
      case 200: {
        const userText = body.messages?.find((m) => m.role === "user")?.content ?? "";
        json(200, {
          id: `chatcmpl-${this.requests.length}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: `${deployment}-model`,
          choices: [
            { index: 0, message: { role: "assistant", content: reply.content ?? `echo: ${userText}` }, finish_reason: reply.finishReason ?? "stop" },
          ],
          usage: { prompt_tokens: userText.length, completion_tokens: 3, total_tokens: userText.length + 3 },
        });
        return;
      }
      case 429: {
        const headers: Record<string, string> = {};
        if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
        if (reply.retryAfterMs !== undefined) headers["retry-after-ms"] = String(reply.retryAfterMs);
        json(429, { error: { code: "429", message: "Rate limit is exceeded. Try again later." } }, headers);
        return;
      }
      case 400:
        json(400, { error: { code: reply.code ?? "content_filter", message: reply.message ?? "The response was filtered due to the prompt triggering content management policy." } });
        return;
      default:
        json(reply.status, { error: { code: "InternalServerError", message: reply.message ?? "The server had an error." } });
    }
  }
}
