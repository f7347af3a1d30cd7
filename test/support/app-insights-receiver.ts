// A stand-in for Application Insights' ingestion endpoint: HTTPS (the Azure Monitor exporter sends nowhere else)
// on 127.0.0.1 at a run-time port, with a certificate made for the test by the openssl command line, accepting
// the exporter's envelopes on POST /v2.1/track. Point a process at it with connectionString and
// NODE_EXTRA_CA_CERTS=certificateFile.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

export interface Envelope {
  /** e.g. Microsoft.ApplicationInsights.Request, .RemoteDependency, .Metric */
  name: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: { name?: string; metrics?: Array<{ name: string; value: number }>; properties?: Record<string, string> } };
}

export class AppInsightsReceiver {
  readonly envelopes: Envelope[] = [];

  private constructor(
    private readonly server: Server,
    private readonly directory: string,
    readonly certificateFile: string,
    readonly connectionString: string,
  ) {}

  static async start(): Promise<AppInsightsReceiver> {
    const directory = mkdtempSync(join(tmpdir(), "app-insights-receiver-"));
    const keyFile = join(directory, "key.pem");
    const certificateFile = join(directory, "cert.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certificateFile,
    ], { stdio: "ignore" });
    let receiver: AppInsightsReceiver | undefined;
    const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certificateFile) }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        if (request.method !== "POST" || !request.url?.startsWith("/v2.1/track")) {
          response.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const text = (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
        const parsed = text.trimStart().startsWith("[") ? (JSON.parse(text) as Envelope[]) : text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Envelope);
        receiver?.envelopes.push(...parsed);
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ itemsReceived: parsed.length, itemsAccepted: parsed.length, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const connectionString = `InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:${port}/`;
    receiver = new AppInsightsReceiver(server, directory, certificateFile, connectionString);
    return receiver;
  }

  /** Envelopes of one telemetry type, e.g. "Request", "RemoteDependency", "Metric". */
  ofType(type: string): Envelope[] {
    return this.envelopes.filter((e) => e.name.endsWith(`.${type}`));
  }

  describe(): string {
    const what = (e: Envelope) => `${e.name.split(".").pop()} ${e.data?.baseData?.name ?? e.data?.baseData?.metrics?.[0]?.name ?? ""}`;
    return `received: ${this.envelopes.map(what).join(", ") || "nothing"}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.directory, { recursive: true, force: true });
  }
}
