// What the broker's link handlers share: the namespace data, the settings they enforce, fault
// injection, the reader registry, and (per link) whether the connection may use an entity.
import type { Logger } from "pino";
import type { EmulatorConfig } from "./config";
import type { Faults } from "./faults";
import type { EventHubsNamespace } from "./namespace";
import type { ReaderRegistry } from "./reader-registry";

export type BrokerLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface BrokerContext {
  readonly namespace: EventHubsNamespace;
  readonly config: EmulatorConfig;
  readonly faults: Faults;
  readonly readers: ReaderRegistry;
  readonly log: BrokerLogger;
  now(): number;
}

/** Per-connection state a link handler needs. */
export interface LinkContext extends BrokerContext {
  /** True when the connection may use `entityPath` (always true with signature checks off). */
  authorized(entityPath: string): boolean;
}
