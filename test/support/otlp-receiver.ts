// A minimal OTLP/HTTP trace receiver for tests: accepts the JSON encoding on POST /v1/traces (what
// @opentelemetry/exporter-trace-otlp-http sends) on 127.0.0.1 at a run-time port, and keeps every span.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
  status: { code?: number; message?: string };
}

function valueOf(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

const attributesOf = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
/** The JSON encoding carries ids as hex; accept base64 too, as some encoders send it. */
const idOf = (id: string | undefined) => (id === undefined || id === "" ? "" : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex"));

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
  }>;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not OTLP JSON on /v1/traces (content type and path), for failure messages. */
  readonly rejected: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const type = request.headers["content-type"] ?? "";
        if (request.method !== "POST" || request.url !== "/v1/traces" || !type.startsWith("application/json")) {
          receiver?.rejected.push(`${request.method} ${request.url} ${type}`);
          response.writeHead(415).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        receiver?.accept(JSON.parse(body.toString("utf8")) as ExportRequest);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${port}`);
    return receiver;
  }

  private accept(request: ExportRequest): void {
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const s = span as {
            traceId?: string; spanId?: string; parentSpanId?: string; name: string; kind?: number; attributes?: KeyValue[];
            events?: Array<{ name: string; attributes?: KeyValue[] }>; links?: Array<{ traceId?: string; spanId?: string; attributes?: KeyValue[] }>;
            status?: { code?: number; message?: string };
          };
          this.spans.push({
            service,
            traceId: idOf(s.traceId),
            spanId: idOf(s.spanId),
            parentSpanId: idOf(s.parentSpanId),
            name: s.name,
            kind: s.kind ?? 0,
            attributes: attributesOf(s.attributes),
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
            links: (s.links ?? []).map((l) => ({ traceId: idOf(l.traceId), spanId: idOf(l.spanId), attributes: attributesOf(l.attributes) })),
            status: s.status ?? {},
          });
        }
      }
    }
  }

  named(name: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  describe(): string {
    const names = new Map<string, number>();
    for (const s of this.spans) names.set(`${s.service}: ${s.name}`, (names.get(`${s.service}: ${s.name}`) ?? 0) + 1);
    return `received spans: ${[...names].map(([n, c]) => `${n} x${c}`).join(", ") || "none"}; rejected: ${this.rejected.join(", ") || "none"}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
