// What the Kafka API handlers share: the namespace's hubs (the same partition logs the AMQP side serves),
// the group coordinator, committed offsets, idempotent-producer state, and per connection who is calling.
import type { BrokerLogger } from "../broker-context";
import type { EmulatorConfig } from "../config";
import type { EventHubsNamespace } from "../namespace";
import { Reader, Writer } from "./codec";
import type { GroupCoordinator } from "./group-coordinator";
import type { OffsetStore } from "./offset-store";
import type { ProducerRegistry } from "./producer-state";
import type { KafkaPrincipal } from "./sasl-plain";

/** The single broker every client is told about (Event Hubs too exposes one endpoint per namespace). */
export const NODE_ID = 0;

export interface KafkaServerContext {
  readonly namespace: EventHubsNamespace;
  readonly config: EmulatorConfig;
  readonly coordinator: GroupCoordinator;
  readonly offsets: OffsetStore;
  readonly producers: ProducerRegistry;
  readonly log: BrokerLogger;
  /** Largest fetch response, whatever a client asks for. */
  readonly maxFetchBytes: number;
  now(): number;
}

/** One client connection: where it reached us and, once SASL succeeded, what it may use. */
export interface ConnectionInfo {
  /** Set once SASL succeeded; until then only ApiVersions and SASL requests are served. */
  principal: KafkaPrincipal | undefined;
  /** The mechanism SaslHandshake agreed on. */
  saslMechanism: string | undefined;
  /** After SaslHandshake v0 the client sends its token as a bare frame, without a request header. */
  rawSaslTokenNext: boolean;
  /** Set by a handler whose response is the last one (a refused SASL login): why the connection closes. */
  closeAfterResponse: string | undefined;
  /** Host and port to advertise in Metadata and FindCoordinator: the address this client connected to. */
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly clientHost: string;
  /** Resolves when the connection closes (ends long polls early). */
  readonly closed: Promise<void>;
}

export interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** The request body, positioned after the header; flexible when the version is. */
  body: Reader;
  connection: ConnectionInfo;
  server: KafkaServerContext;
}

/** Writes a response body with the encoding of the request's version. */
export function responseWriter(request: KafkaRequest): Writer {
  return new Writer(request.body.flexible);
}

/** A handler's answer: the response body, or undefined when the protocol sends none (Produce with acks=0). */
export type KafkaHandler = (request: KafkaRequest) => Writer | undefined | Promise<Writer | undefined>;
