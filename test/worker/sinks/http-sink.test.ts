// SINK=http against a real HTTP server on loopback: the unit writes, the settings, and a real worker process
// delivering every event of a hub to the endpoint.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { parseConfig } from "../../../worker/config";
import { PartialWriteError, type ResultRecord } from "../../../worker/sinks/sink";
import { HttpSink, httpSink } from "../../../worker/sinks/http-sink";
import { fourPartitionHubs, keysOf, readCheckpoints, sendToEveryPartition } from "../../support/hub-fixtures";
import { pluginRuntime } from "../../support/plugin-runtime";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, WorkerFleet } from "../../support/worker-process";

interface Received {
  headers: IncomingMessage["headers"];
  /** The status the endpoint answered with. */
  status: number;
  lines: Array<{ partitionId: string; sequenceNumber: number; result: unknown }>;
}

/** A results endpoint: records every request; `answer` decides each response (default 204). */
class ResultsEndpoint {
  readonly requests: Received[] = [];
  answer: (res: ServerResponse) => void = (res) => res.writeHead(204).end();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ResultsEndpoint> {
    const server = createServer();
    const endpoint = new ResultsEndpoint(server);
    server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
      let body = "";
      for await (const chunk of req) body += String(chunk);
      endpoint.answer(res);
      endpoint.requests.push({ headers: req.headers, status: res.statusCode, lines: body.split("\n").filter(Boolean).map((line) => JSON.parse(line)) });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/results`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const record = (partitionId: string, sequenceNumber: number): ResultRecord => ({
  partitionId,
  sequenceNumber,
  offset: String(sequenceNumber),
  enqueuedTimeUtc: "2024-03-12T09:00:00.000Z",
  processor: "text-insights",
  processedAt: "2024-03-12T09:00:01.000Z",
  resultJson: `{"n":${sequenceNumber}}`,
});

const VALID_ENV = {
  EVENTHUB_CONNECTION_STRING: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
  EVENTHUB_NAME: "events",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

let endpoint: ResultsEndpoint;
beforeAll(async () => {
  endpoint = await ResultsEndpoint.start();
});
afterEach(() => {
  endpoint.requests.length = 0;
  endpoint.answer = (res) => res.writeHead(204).end();
});
afterAll(async () => {
  await endpoint.close();
});

describe("HTTP sink", () => {
  it("posts each partition's records as JSON Lines, in order, with an idempotency key and the authorization header", async () => {
    const sink = await httpSink.create({ url: endpoint.url, authorization: "Bearer t0ken", timeoutMs: 5000 }, pluginRuntime());
    await sink.write([record("0", 1), record("0", 2), record("3", 7), record("0", 3)]);

    expect(endpoint.requests.map((r) => r.headers["idempotency-key"])).toEqual(["0-1-2", "3-7-7", "0-3-3"]);
    expect(endpoint.requests.map((r) => r.lines.map((l) => l.sequenceNumber))).toEqual([[1, 2], [7], [3]]);
    expect(endpoint.requests[0]!.lines[0]).toMatchObject({ partitionId: "0", sequenceNumber: 1, result: { n: 1 } });
    for (const request of endpoint.requests) {
      expect(request.headers["content-type"]).toBe("application/x-ndjson");
      expect(request.headers.authorization).toBe("Bearer t0ken");
    }
  });

  it("a write refused after its first request names the records already posted, so a retry posts only the rest", async () => {
    const sink = new HttpSink({ url: endpoint.url, timeoutMs: 5000 });
    let answered = 0;
    endpoint.answer = (res) => (answered++ === 0 ? res.writeHead(204).end() : res.writeHead(503).end());
    const failure = await sink.write([record("0", 1), record("0", 2), record("3", 7)]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PartialWriteError);
    expect((failure as PartialWriteError).durable.map((r) => r.sequenceNumber)).toEqual([1, 2]);
    expect(((failure as PartialWriteError).cause as Error).message).toMatch(/answered 503/);
  });

  it("fails the write with the status and the answer when the endpoint refuses, and succeeds once it accepts", async () => {
    const sink = new HttpSink({ url: endpoint.url, timeoutMs: 5000 });
    endpoint.answer = (res) => res.writeHead(503, { "content-type": "text/plain" }).end("maintenance until 10:00");
    await expect(sink.write([record("1", 5)])).rejects.toThrow(`HTTP sink: ${endpoint.url} answered 503 Service Unavailable: maintenance until 10:00`);
    endpoint.answer = (res) => res.writeHead(200).end("ok");
    await sink.write([record("1", 5)]);
    expect(endpoint.requests.map((r) => r.lines.map((l) => l.sequenceNumber))).toEqual([[5], [5]]);
  });

  it("fails the write when the endpoint does not answer in time", async () => {
    const sink = new HttpSink({ url: endpoint.url, timeoutMs: 200 });
    endpoint.answer = () => undefined; // never answers; the server's teardown closes the connection
    await expect(sink.write([record("2", 9)])).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("needs SINK_HTTP_URL, hides the authorization value, and maps its settings", () => {
    const missing = parseConfig([], { ...VALID_ENV, SINK: "http", SINK_HTTP_AUTHORIZATION: "Bearer secret-token", SINK_HTTP_TIMEOUT_MS: "5" });
    expect(missing.kind === "invalid" && missing.problems).toEqual([
      "SINK_HTTP_URL (--sink-http-url) = (not set): required when SINK=http",
      `SINK_HTTP_TIMEOUT_MS (--sink-http-timeout-ms) = "5": allowed: an integer from 100 to 600000`,
    ]);
    const ok = parseConfig(["--sink", "http", "--sink-http-url", "https://example.com/hooks/results/"], { ...VALID_ENV, SINK_HTTP_AUTHORIZATION: "Bearer secret-token" });
    expect(ok.kind === "ok" && ok.config.sink).toEqual({ kind: "http", url: "https://example.com/hooks/results/", authorization: "Bearer secret-token", timeoutMs: 30_000 });
    const badUrl = parseConfig([], { ...VALID_ENV, SINK: "http", SINK_HTTP_URL: "ftp://example.com", SINK_HTTP_AUTHORIZATION: "x" });
    expect(badUrl.kind === "invalid" && badUrl.problems).toEqual([
      `SINK_HTTP_URL (--sink-http-url) = "ftp://example.com": allowed: an http(s) URL such as https://example.com/results`,
    ]);
  });
});

describe("a worker with SINK=http", () => {
  let stack: LocalStack;
  const workers = new WorkerFleet(() => stack.env());
  beforeAll(async () => {
    stack = await startLocalStack({ config: fourPartitionHubs("webhook") });
  });
  afterAll(async () => {
    await workers.disposeAll();
    await stack?.stop();
  });

  it("delivers every event's result to the endpoint, and checkpoints only what the endpoint accepted", async () => {
    // The endpoint refuses its first three requests: those batches are retried, not lost or dead-lettered.
    let refusals = 3;
    endpoint.answer = (res) => (refusals-- > 0 ? res.writeHead(502).end("bad gateway") : res.writeHead(204).end());
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "webhook", 25);
    const worker = workers.start("webhook", "webhook", { SINK: "http", SINK_HTTP_URL: endpoint.url, CHECKPOINT_EVERY_EVENTS: "5" });
    const delivered = () => keysOf(endpoint.requests.filter((r) => r.status === 204).flatMap((r) => r.lines));

    await waitFor("every event's result at the endpoint", () => delivered().size >= sent.length, 60_000, () => worker.describe());
    expect(delivered()).toEqual(keysOf(sent));
    await waitFor(
      "checkpoints at the last event of every partition",
      async () => [...(await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "webhook")).values()].filter((s) => s === 24).length === 4,
      20_000,
      () => worker.describe(),
    );
    expect(endpoint.requests.filter((r) => r.status === 502)).toHaveLength(3);
    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });
});
