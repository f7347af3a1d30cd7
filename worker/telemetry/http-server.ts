// /metrics (Prometheus), /healthz (the process answers), /readyz (subscription running, checkpoint store reachable),
// /status (the worker's state as JSON, for harnesses and operators: who it is, what it owns, whether it is ready).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Readiness {
  ready: boolean;
  /** Why not ready; shown in the /readyz body. */
  reasons: string[];
  /** What is wrong without stopping the worker (a deployment down while others carry the load); shown too. */
  notes: string[];
}

export interface Ownership {
  /** This worker's id in ownership and fleet records (the subscription's processor id). */
  ownerId: string | undefined;
  ownedPartitions: string[];
}

/** The /status body. */
export interface WorkerStatus {
  ownerId?: string;
  ownedPartitions: string[];
  pid: number;
  metricsPort: number;
  readiness: Readiness;
}

/** The IPC message a worker spawned with an IPC channel sends once this server listens (see worker/cli.ts). */
export interface WorkerStartedMessage {
  workerStarted: { metricsPort: number };
}

export interface TelemetryServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startTelemetryServer(options: {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Promise<Readiness>;
  ownership: () => Ownership;
}): Promise<TelemetryServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const reply = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { "content-type": contentType }).end(body);
    };
    const answer = async () => {
      if (request.method !== "GET" && request.method !== "HEAD") return reply(405, "text/plain", "method not allowed\n");
      switch (path) {
        case "/metrics":
          return reply(200, options.registry.contentType, await options.registry.metrics());
        case "/healthz":
          return reply(200, "text/plain", "ok\n");
        case "/readyz": {
          const readiness = await options.readiness();
          return reply(readiness.ready ? 200 : 503, "application/json", `${JSON.stringify(readiness)}\n`);
        }
        case "/status": {
          const { ownerId, ownedPartitions } = options.ownership();
          const status: WorkerStatus = { ...(ownerId === undefined ? {} : { ownerId }), ownedPartitions, pid: process.pid, metricsPort: port, readiness: await options.readiness() };
          return reply(200, "application/json", `${JSON.stringify(status)}\n`);
        }
        default:
          return reply(404, "text/plain", "not found\n");
      }
    };
    answer().catch((error: unknown) => reply(500, "text/plain", `${String(error)}\n`));
  });
  // Scrapers keep connections open; do not let them hold shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
