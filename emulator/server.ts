// The local Event Hubs emulator: the namespace's data (E2's EventHubsNamespace) served over AMQP by
// the broker, with fault injection for tests.
import pino from "pino";
import { Broker, type ConnectionTimeouts } from "./broker";
import type { BrokerContext, BrokerLogger } from "./broker-context";
import type { EmulatorConfig } from "./config";
import { Faults } from "./faults";
import { EventHubsNamespace } from "./namespace";
import { ReaderRegistry } from "./reader-registry";

export interface EventHubsEmulatorOptions {
  config: EmulatorConfig;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 0 = pick a free one (see `port`). */
  port?: number;
  /** Structured logger; default pino on stderr at level EMULATOR_LOG_LEVEL (default "warn"). */
  log?: BrokerLogger;
  /** Handshake deadline and idle timeout per client connection; defaults suit real clients. */
  timeouts?: Partial<ConnectionTimeouts>;
}

export function defaultLogger(): BrokerLogger {
  return pino({ name: "eventhubs-emulator", level: process.env.EMULATOR_LOG_LEVEL ?? "warn" }, pino.destination(2));
}

export class EventHubsEmulator {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly broker: Broker,
    readonly namespace: EventHubsNamespace,
    readonly config: EmulatorConfig,
    readonly faults: Faults,
  ) {}

  static async start(options: EventHubsEmulatorOptions): Promise<EventHubsEmulator> {
    const { config } = options;
    const namespace = await EventHubsNamespace.open(config);
    let broker: Broker | undefined;
    const faults = new Faults({
      detachReceivers: (error) => broker?.detachReceivers(error) ?? 0,
      dropConnections: () => broker?.dropConnections() ?? 0,
    });
    const context: BrokerContext = {
      namespace,
      config,
      faults,
      readers: new ReaderRegistry(),
      log: options.log ?? defaultLogger(),
      now: Date.now,
    };
    try {
      broker = await Broker.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0, context, ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
    } catch (err) {
      await namespace.close();
      throw err;
    }
    return new EventHubsEmulator(broker, namespace, config, faults);
  }

  /** The TCP port the emulator listens on. */
  get port(): number {
    return this.broker.port;
  }

  get host(): string {
    return this.broker.host;
  }

  /** Live client connections and consumer links, and the link credit not yet used (for tests and health reporting). */
  stats(): ReturnType<Broker["stats"]> {
    return this.broker.stats();
  }

  /** Namespace-level connection string (no EntityPath) for the first configured SAS key. */
  connectionString(): string {
    const key = this.config.keys[0];
    if (!key) throw new Error("The emulator configuration has no SAS keys to build a connection string from.");
    // A wildcard listener is reachable on loopback; clients cannot connect to "0.0.0.0" everywhere.
    const host = this.host === "0.0.0.0" || this.host === "::" ? "127.0.0.1" : this.host;
    return `Endpoint=sb://${host}:${this.port};SharedAccessKeyName=${key.name};SharedAccessKey=${key.key};UseDevelopmentEmulator=true`;
  }

  /** Closes every client connection, then the listener, then the namespace. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.broker.stop();
      await this.namespace.close();
    })();
    return this.stopping;
  }
}
