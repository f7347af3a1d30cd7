// Worker configuration: every setting is an environment variable and a command-line flag of the same
// name (EVENTHUB_NAME <-> --eventhub-name; the flag wins). Each is declared once (settings/declare.ts): where the
// hub and storage are in connection-settings.ts, the other core ones here, each sink's and processor's in its own module. Parsed and validated once, at the edge,
// before anything connects; every bad value is reported at once and the CLI exits with code 2.
import { Command } from "commander";
import { commanderExitCode } from "../common/cli";
import { WORKER_METRICS_PORT } from "../common/names";
import { connectionConflicts, CONNECTION_SETTINGS, missingConnection, toConnection, type Connection } from "./connection-settings";
import { allowedChoices, choosePlugin, type AnyProcessorPlugin, type AnySinkPlugin, type Environment, type PluginContext } from "./plugins";
import { PROCESSORS, type ProcessorConfig } from "./processing/index";
import {
  addSettingOptions,
  checkSettings,
  flagOf,
  mergeSettings,
  rawSettings,
  type Problem,
  type RawSettings as RawSettingsOf,
  type Values,
} from "./settings/declare";
import { boolean, integer, oneOf, parsed, text } from "./settings/values";
import { SINKS, type SinkConfig } from "./sinks/index";

const TUNING = "Consumer tuning:";
const FLEET = "Fleet coordination (the replicas of the consumer group):";
const PROCESSING = "Processing:";
const SINK = "Result sink:";
const OPERATIONS = "Operations:";

/** A SINK or PROCESSOR value: the plugin it chooses and the text that chose it. */
const pluginChoice = <P extends AnySinkPlugin | AnyProcessorPlugin>(plugins: readonly P[]) =>
  parsed(allowedChoices(plugins), (raw) => {
    const plugin = choosePlugin(plugins, raw);
    return plugin && { plugin, selection: raw };
  });

// Event Hubs, storage, consumer tuning, and the choice of processor with its retries: listed before the
// processors' own settings.
const CONSUMER_SETTINGS = {
  ...CONNECTION_SETTINGS,

  MAX_BATCH_SIZE: { group: TUNING, value: integer(1, 5000), default: "100", help: "events per processEvents batch (SDK default 1)" },
  MAX_WAIT_MS: { group: TUNING, value: integer(10, 600_000), default: "1000", help: "longest wait to fill a batch (ms; SDK default 60000)" },
  PREFETCH_COUNT: { group: TUNING, value: integer(1, 100_000), default: "300", help: "events buffered ahead per partition" },
  START_POSITION: { group: TUNING, value: oneOf(["earliest", "latest"]), default: "earliest",
    help: "earliest|latest: where a partition without a checkpoint starts (SDK default latest skips history)" },
  CHECKPOINT_EVERY_EVENTS: { group: TUNING, value: integer(1, 1_000_000), default: "500",
    help: "checkpoint after this many durable events per partition (or CHECKPOINT_EVERY_MS, whichever first)" },
  CHECKPOINT_EVERY_MS: { group: TUNING, value: integer(10, 3_600_000), default: "5000",
    help: "checkpoint at least this often while a partition has durable, uncheckpointed progress (ms)" },
  LOAD_BALANCING: { group: TUNING, value: oneOf(["greedy", "balanced"]), default: "greedy",
    help: "greedy|balanced: greedy claims its whole share at once, balanced one partition per interval" },
  LOAD_BALANCING_UPDATE_INTERVAL_MS: { group: TUNING, value: integer(100, 600_000), default: "5000",
    help: "how often ownership is renewed and rebalanced (ms; SDK default 10000): a partition handed over waits for its new owner's next round" },
  LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: { group: TUNING, value: integer(1000, 3_600_000), default: "30000",
    help: "ownership not renewed for this long is taken over (ms; > update interval)" },

  FLEET_COORDINATION: { group: FLEET, value: boolean, default: "true",
    help: "share model quotas and hand partitions over through records in the checkpoint container (false: each replica alone, as the SDK does)" },
  FLEET_SYNC_INTERVAL_MS: { group: FLEET, value: integer(200, 60_000), default: "1000",
    help: "how often each replica writes its record and reads the others' while model quotas are shared (ms; otherwise once per load-balancing round); 2 storage operations each" },

  PROCESSOR: { group: PROCESSING, value: pluginChoice(PROCESSORS), default: "text-insights",
    help: `what processes each event: ${allowedChoices(PROCESSORS)}` },
  RETRY_MAX_ATTEMPTS: { group: PROCESSING, value: integer(1, 100), default: "5",
    help: "attempts per event (processor) and per write (sink, dead letters, checkpoints)" },
  RETRY_BASE_DELAY_MS: { group: PROCESSING, value: integer(1, 600_000), default: "200", help: "first backoff delay (ms), exponential with jitter" },
  RETRY_MAX_DELAY_MS: { group: PROCESSING, value: integer(1, 3_600_000), default: "10000", help: "backoff delay cap (ms)" },
} as const;

const SINK_CHOICE = {
  SINK: { group: SINK, value: pluginChoice(SINKS), default: "stdout", help: `where results go: ${allowedChoices(SINKS)}` },
} as const;

const OPERATIONS_SETTINGS = {
  LOG_LEVEL: { group: OPERATIONS, value: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), default: "info",
    help: "fatal|error|warn|info|debug|trace|silent (logs go to stderr, so stdout carries only results)" },
  METRICS_PORT: { group: OPERATIONS, value: integer(0, 65_535), default: String(WORKER_METRICS_PORT),
    help: "port for /metrics, /healthz, /readyz and /status; 0 picks a free port (logged)" },
  METRICS_HOST: { group: OPERATIONS, value: text, default: "0.0.0.0", help: "interface the metrics server listens on" },
  SHUTDOWN_TIMEOUT_MS: { group: OPERATIONS, value: integer(100, 3_600_000), default: "25000",
    help: "SIGTERM/SIGINT: longest drain + checkpoint + close before exiting anyway (ms)" },
} as const;

const CORE = { ...CONSUMER_SETTINGS, ...SINK_CHOICE, ...OPERATIONS_SETTINGS };
type CoreValues = Values<typeof CORE>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type PluginSettings = UnionToIntersection<((typeof PROCESSORS)[number] | (typeof SINKS)[number])["settings"]>;

/** Every setting, in the order --help and docs/configuration.md list them: core, processors, sink, sinks, operations. */
export const SETTINGS = mergeSettings([
  CONSUMER_SETTINGS,
  ...PROCESSORS.map((p) => p.settings),
  SINK_CHOICE,
  ...SINKS.map((s) => s.settings),
  OPERATIONS_SETTINGS,
]) as typeof CORE & PluginSettings;

export type SettingName = keyof typeof SETTINGS & string;
export type RawSettings = RawSettingsOf<SettingName>;
/**
 * Environment variables for a worker, by setting name: what the stack, the local stack, the tools and the
 * tests hand a worker. A type only, so they check names against the settings without loading the worker.
 */
export type WorkerEnvironment<Value = string> = Partial<Record<SettingName, Value>>;
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

function coreConflicts(s: CoreValues): Problem[] {
  const problems: Problem[] = connectionConflicts(s);
  if (s.LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS <= s.LOAD_BALANCING_UPDATE_INTERVAL_MS)
    problems.push(["LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS", `must be greater than LOAD_BALANCING_UPDATE_INTERVAL_MS, which is ${s.LOAD_BALANCING_UPDATE_INTERVAL_MS}`]);
  if (s.RETRY_MAX_DELAY_MS < s.RETRY_BASE_DELAY_MS)
    problems.push(["RETRY_MAX_DELAY_MS", `must be at least RETRY_BASE_DELAY_MS, which is ${s.RETRY_BASE_DELAY_MS}`]);
  return problems;
}

type AnyPlugin = AnySinkPlugin | AnyProcessorPlugin;

/** The plugins the raw SINK and PROCESSOR choose, with the setting that chose each. */
function chosenPlugins(raw: RawSettings): Array<{ setting: "PROCESSOR" | "SINK"; plugin: AnyPlugin }> {
  const processor = choosePlugin(PROCESSORS, raw.PROCESSOR ?? CORE.PROCESSOR.default);
  const sink = choosePlugin(SINKS, raw.SINK ?? CORE.SINK.default);
  return [
    ...(processor ? [{ setting: "PROCESSOR" as const, plugin: processor }] : []),
    ...(sink ? [{ setting: "SINK" as const, plugin: sink }] : []),
  ];
}

function missingForPlugins(raw: RawSettings, env: Environment): Problem[] {
  return chosenPlugins(raw).flatMap(({ setting, plugin }) => [
    ...(plugin.required ?? [])
      .filter((name) => raw[name as SettingName] === undefined)
      .map((name): Problem => [name, `required when ${setting}=${plugin.name}`]),
    ...(plugin.missing?.(raw, env) ?? []),
  ]);
}

export interface WorkerConfig extends Connection {
  subscription: { maxBatchSize: number; maxWaitTimeMs: number; prefetchCount: number; startPosition: "earliest" | "latest" };
  checkpoint: { everyEvents: number; everyMs: number };
  loadBalancing: { strategy: "greedy" | "balanced"; updateIntervalMs: number; ownershipExpirationMs: number };
  fleet: { coordination: boolean; syncIntervalMs: number };
  /** The chosen processor's options; `kind` names it (PROCESSOR). */
  processor: ProcessorConfig;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** The chosen sink's options; `kind` names it (SINK). */
  sink: SinkConfig;
  logLevel: CoreValues["LOG_LEVEL"];
  metrics: { host: string; port: number };
  shutdownTimeoutMs: number;
}

/** The chosen plugin's options, tagged with its name. */
function pluginConfig<C>(choice: { plugin: AnyPlugin; selection: string }, values: Record<string, unknown>, context: Omit<PluginContext, "selection">): C {
  const options = choice.plugin.options(values as never, { ...context, selection: choice.selection }) as object;
  return { kind: choice.plugin.name, ...options } as C;
}

function toWorkerConfig(s: CoreValues, values: Record<string, unknown>, env: Environment): WorkerConfig {
  const connection = toConnection(s);
  const context = { eventHubName: connection.eventHub.eventHubName, consumerGroup: s.EVENTHUB_CONSUMER_GROUP, env };
  return {
    ...connection,
    subscription: {
      maxBatchSize: s.MAX_BATCH_SIZE,
      maxWaitTimeMs: s.MAX_WAIT_MS,
      prefetchCount: s.PREFETCH_COUNT,
      startPosition: s.START_POSITION,
    },
    checkpoint: { everyEvents: s.CHECKPOINT_EVERY_EVENTS, everyMs: s.CHECKPOINT_EVERY_MS },
    loadBalancing: {
      strategy: s.LOAD_BALANCING,
      updateIntervalMs: s.LOAD_BALANCING_UPDATE_INTERVAL_MS,
      ownershipExpirationMs: s.LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS,
    },
    fleet: { coordination: s.FLEET_COORDINATION, syncIntervalMs: s.FLEET_SYNC_INTERVAL_MS },
    processor: pluginConfig<ProcessorConfig>(s.PROCESSOR, values, context),
    retry: { maxAttempts: s.RETRY_MAX_ATTEMPTS, baseDelayMs: s.RETRY_BASE_DELAY_MS, maxDelayMs: s.RETRY_MAX_DELAY_MS },
    sink: pluginConfig<SinkConfig>(s.SINK, values, context),
    logLevel: s.LOG_LEVEL,
    metrics: { host: s.METRICS_HOST, port: s.METRICS_PORT },
    shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS,
  };
}

export type ConfigResult =
  | { kind: "ok"; config: WorkerConfig }
  | { kind: "invalid"; problems: string[] }
  | { kind: "exit"; exitCode: number }; // --help, or a command-line syntax error commander already printed

/**
 * Validates already-merged raw settings; one message per problem: name, flag, value, what is allowed. `env` is
 * where variables named by a setting (a deployment's apiKeyEnv) are looked up.
 */
export function validateSettings(raw: RawSettings, env: Environment = {}): ConfigResult {
  const checked = checkSettings(SETTINGS, raw, {
    missing: [...missingConnection(raw), ...missingForPlugins(raw, env)],
    conflicts: (values) => {
      const core = values as CoreValues;
      return [...coreConflicts(core), ...[core.PROCESSOR.plugin, core.SINK.plugin].flatMap((plugin: AnyPlugin) => plugin.conflicts?.(values as never) ?? [])];
    },
  });
  if (checked.kind === "invalid") return checked;
  return { kind: "ok", config: toWorkerConfig(checked.values as CoreValues, checked.values as Record<string, unknown>, env) };
}

function buildCommand(): Command {
  const command = new Command("worker")
    .description(
      "Event Hubs AI worker: owns partitions (load balanced across workers of the consumer group), runs AI " +
        "processing on each partition in parallel, writes results to a sink and checkpoints durable progress.\n" +
        "Every option is also an environment variable of the same name (EVENTHUB_NAME <-> --eventhub-name); " +
        "the flag wins. Bad values exit with code 2 before anything connects.",
    )
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .allowExcessArguments(false);
  addSettingOptions(command, SETTINGS, SETTING_NAMES);
  return command;
}

export function helpText(): string {
  return buildCommand().helpInformation();
}

/** Merges environment and flags (flags win) and validates. `argv` excludes the node and script paths. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult {
  const command = buildCommand();
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    const exitCode = commanderExitCode(error);
    if (exitCode === undefined) throw error;
    return { kind: "exit", exitCode };
  }
  const raw = rawSettings(SETTING_NAMES, command.opts(), env);
  const renamed = Object.entries(RENAMED_SETTINGS)
    .filter(([old]) => env[old] !== undefined && env[old] !== "")
    .map(([old, now]) => `${old} was renamed ${now} (${flagOf(now)}): set that instead`);
  const result = validateSettings(raw, env);
  if (renamed.length === 0) return result;
  return { kind: "invalid", problems: [...renamed, ...(result.kind === "invalid" ? result.problems : [])] };
}

/** Settings of earlier versions: a deployment that still sets one is told its new name instead of being ignored. */
const RENAMED_SETTINGS: Record<string, SettingName> = {
  AZURE_OPENAI_SYSTEM_PROMPT: "MODEL_SYSTEM_PROMPT",
  AZURE_OPENAI_MAX_CONCURRENCY: "MODEL_MAX_CONCURRENCY",
  AZURE_OPENAI_TIMEOUT_MS: "MODEL_TIMEOUT_MS",
};
