// Sinks and processors are plugins: one module each declares its settings, maps their values to its
// options, and builds the sink or processor at start-up. The registries (sinks/index.ts,
// processing/index.ts) list them; configuration, --help, validation and the settings table in docs/configuration.md follow.
import type { TokenCredential } from "@azure/core-auth";
import type { BlobServiceClient } from "@azure/storage-blob";
import type { Logger } from "pino";
import type { QuotaParticipant } from "./fleet/fleet-coordinator";
import type { Tracing } from "./observability";
import type { Processor } from "./processing/processor";
import type { Problem, RawSettings, Settings, Values } from "./settings/declare";
import type { Sink } from "./sinks/sink";
import type { WorkerMetrics } from "./telemetry/metrics";

/** What settings cannot hold, handed to a plugin when the worker starts. */
export interface PluginRuntime {
  /** DefaultAzureCredential, created on first use. */
  credential(): TokenCredential;
  /** The storage account of STORAGE_CONNECTION_STRING / STORAGE_ACCOUNT_URL. */
  blobService: BlobServiceClient;
  metrics: WorkerMetrics;
  /** Spans for what the plugin calls (NO_TRACING when tracing is off). */
  tracing: Tracing;
  logger: Logger;
  /** Model deployments whose quota the replicas of the consumer group share. */
  shareQuotas(participants: readonly QuotaParticipant[]): void;
}

/** Facts from the core settings a plugin's options may depend on. */
export interface PluginContext {
  eventHubName: string;
  consumerGroup: string;
  /** The SINK or PROCESSOR value that chose the plugin, as given (a module path, for instance). */
  selection: string;
  /** The worker's environment, for settings that name another variable (a key's, say). */
  env: Environment;
}

/** Environment variables, as the worker was given them. */
export type Environment = Readonly<Record<string, string | undefined>>;

interface Plugin<Name extends string, S extends Settings, Options> {
  /** The SINK or PROCESSOR value that chooses it. */
  name: Name;
  /** Its own settings, listed in --help and docs/configuration.md; parsed whichever plugin is chosen. */
  settings: S;
  /** Settings that must be set when this plugin is chosen. */
  required?: ReadonlyArray<keyof S & string>;
  /**
   * Other presence rules (one of two settings, say, or a variable another setting names), checked on raw text so
   * they are reported with value errors.
   */
  missing?(raw: RawSettings<keyof S & string>, env: Environment): Problem[];
  /** Rules between its parsed values. */
  conflicts?(values: Values<S>): Problem[];
  /** Its options, from its settings' values: pure, so configuration can be checked without starting anything. */
  options(values: Values<S>, context: PluginContext): Options;
}

export interface SinkPlugin<Name extends string = string, S extends Settings = Settings, Options = unknown>
  extends Plugin<Name, S, Options> {
  create(options: Options, runtime: PluginRuntime): Promise<Sink>;
}

export interface ProcessorPlugin<Name extends string = string, S extends Settings = Settings, Options = unknown>
  extends Plugin<Name, S, Options> {
  /** For a plugin chosen by a pattern rather than its name (a module path): what is allowed, and the test. */
  chosenBy?: { allowed: string; accepts(raw: string): boolean };
  create(options: Options, runtime: PluginRuntime): Promise<Processor>;
}

export function defineSink<const Name extends string, S extends Settings, Options>(
  plugin: SinkPlugin<Name, S, Options>,
): SinkPlugin<Name, S, Options> {
  return plugin;
}

export function defineProcessor<const Name extends string, S extends Settings, Options>(
  plugin: ProcessorPlugin<Name, S, Options>,
): ProcessorPlugin<Name, S, Options> {
  return plugin;
}

/**
 * Any sink or processor, whatever its settings and options: how the registries and the configuration hold
 * them side by side (each plugin's own types are checked where it is defined).
 */
export type AnySinkPlugin = SinkPlugin<string, any, any>;
export type AnyProcessorPlugin = ProcessorPlugin<string, any, any>;

/** A chosen plugin's options as the worker's configuration holds them: `kind` names the plugin. */
export type PluginConfig<P> = P extends { name: infer Name; options(...args: never[]): infer Options } ? { kind: Name } & Options : never;

/** The plugin a SINK or PROCESSOR value chooses: by name (any case), or by a plugin's pattern. */
export function choosePlugin<P extends { name: string; chosenBy?: { accepts(raw: string): boolean } }>(
  plugins: readonly P[],
  raw: string,
): P | undefined {
  const value = raw.trim();
  return (
    plugins.find((plugin) => !plugin.chosenBy && plugin.name === value.toLowerCase()) ??
    plugins.find((plugin) => plugin.chosenBy?.accepts(value))
  );
}

/** What a SINK or PROCESSOR value may be, e.g. "stdout | eventhub | blob". */
export function allowedChoices(plugins: ReadonlyArray<{ name: string; chosenBy?: { allowed: string } }>): string {
  return plugins.map((plugin) => plugin.chosenBy?.allowed ?? plugin.name).join(" | ");
}

/** Builds the sink or processor a configuration names, with the plugin that produced its options. */
export function createFromConfig<R>(
  plugins: ReadonlyArray<{ name: string; create(options: never, runtime: PluginRuntime): Promise<R> }>,
  config: { kind: string },
  runtime: PluginRuntime,
): Promise<R> {
  const plugin = plugins.find((p) => p.name === config.kind);
  if (!plugin) throw new Error(`no plugin named "${config.kind}"`);
  const { kind: _kind, ...options } = config;
  return plugin.create(options as never, runtime);
}
