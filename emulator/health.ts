// A tiny readiness endpoint for scripts and tests: GET /health answers 200 with what is served when
// every listener (AMQP, Kafka, blob) accepts connections right now, 503 otherwise.
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import type { LocalStack } from "./local-stack";

export interface HealthServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections at host:port within the timeout. */
function accepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function report(stack: LocalStack, host: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const [eventHubs, kafka, blob] = await Promise.all([accepts(host, stack.eventHubsPort), accepts(host, stack.kafkaPort), accepts(host, stack.blobPort)]);
  const ready = eventHubs && kafka && blob;
  return {
    status: ready ? 200 : 503,
    body: {
      status: ready ? "ok" : "unavailable",
      eventHubs: { up: eventHubs, port: stack.eventHubsPort, namespace: stack.config.namespace },
      kafka: { up: kafka, port: stack.kafkaPort },
      blob: { up: blob, port: stack.blobPort },
      hubs: stack.config.hubs.map((hub) => ({
        name: hub.name,
        partitionCount: hub.partitionCount,
        consumerGroups: ["$Default", ...hub.consumerGroups],
      })),
    },
  };
}

export async function startHealthServer(stack: LocalStack, options: { host?: string; port?: number } = {}): Promise<HealthServer> {
  const host = options.host ?? "127.0.0.1";
  // Probe over loopback when the stack listens on every interface.
  const probeHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method !== "GET" || path !== "/health") {
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found; try GET /health" }));
      return;
    }
    report(stack, probeHost).then(
      ({ status, body }) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body)),
      (error: unknown) => response.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ status: "error", error: String(error) })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `http://${probeHost}:${port}/health`,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
