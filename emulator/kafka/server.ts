// The Kafka endpoint of the local Event Hubs: SASL_PLAINTEXT on its own port (Microsoft's emulator serves
// Kafka on 9092 the same way), over the same namespace and partition logs as the AMQP broker.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { BrokerLogger } from "../broker-context";
import type { EmulatorConfig } from "../config";
import type { EventHubsNamespace } from "../namespace";
import { KafkaConnection, type ConnectionLimits } from "./connection";
import type { KafkaServerContext } from "./context";
import { GroupCoordinator } from "./group-coordinator";
import { OffsetStore } from "./offset-store";
import { ProducerRegistry } from "./producer-state";

export const DEFAULT_KAFKA_PORT = 9092;

export const DEFAULT_LIMITS: ConnectionLimits = {
  // Room for a produce request carrying a full 1 MB batch to each of several partitions.
  maxRequestBytes: 8 * 1024 * 1024,
  maxPreAuthRequestBytes: 64 * 1024,
  authenticationMs: 30_000,
  idleMs: 600_000,
};
/** Largest fetch response, whatever the client's fetch.max.bytes. */
const MAX_FETCH_BYTES = 8 * 1024 * 1024;

export interface KafkaServerOptions {
  namespace: EventHubsNamespace;
  config: EmulatorConfig;
  host: string;
  /** 0 picks a free port. */
  port: number;
  log: BrokerLogger;
  limits?: Partial<ConnectionLimits>;
}

export class KafkaServer {
  private readonly connections = new Set<KafkaConnection>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly context: KafkaServerContext,
  ) {}

  static async start(options: KafkaServerOptions): Promise<KafkaServer> {
    const context: KafkaServerContext = {
      namespace: options.namespace,
      config: options.config,
      coordinator: new GroupCoordinator(),
      offsets: OffsetStore.open(options.config.dataDir, options.log),
      producers: new ProducerRegistry(),
      log: options.log,
      maxFetchBytes: MAX_FETCH_BYTES,
      now: Date.now,
    };
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const server = createServer();
    const kafka = new KafkaServer(server, context);
    server.on("connection", (socket: Socket) => kafka.accept(socket, limits));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("listening", resolve);
        server.once("error", reject);
        server.listen(options.port, options.host);
      });
    } catch (error) {
      context.offsets.close();
      throw error;
    }
    return kafka;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.server.address() as AddressInfo).address;
  }

  /** `host:port` for a client's bootstrap.servers (a wildcard listener is reached on loopback). */
  get bootstrapServers(): string {
    const host = this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host;
    return `${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /** Open client connections (for tests: state is freed when clients go). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes every connection and the listener, and writes the committed offsets. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.connections) connection.close();
      this.context.coordinator.close();
      this.context.offsets.close();
      await closed;
    })();
    return this.stopping;
  }

  private accept(socket: Socket, limits: ConnectionLimits): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const connection = new KafkaConnection(socket, this.context, limits, this.port);
    this.connections.add(connection);
    socket.once("close", () => this.connections.delete(connection));
  }
}
