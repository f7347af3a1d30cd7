// Worker configuration: every setting is an environment variable and a command-line flag of the same
// name (EVENTHUB_NAME <-> --eventhub-name; the flag wins). Each is declared once (settings/declare.ts): the
// core ones here, each sink's and processor's in its own module. Parsed and validated once, at the edge,
// before anything connects; every bad value is reported at once and the CLI exits with code 2.
import { Command } from "commander";
import { commanderExitCode } from "../common/cli";
import { checkpointContainerName, DEAD_LETTER_CONTAINER, WORKER_METRICS_PORT, WORKERS_CONSUMER_GROUP } from "../common/names";
import { allowedChoices, choosePlugin, type AnyProcessorPlugin, type AnySinkPlugin, type Environment, type PluginContext } from "./plugins";
import { PROCESSORS, type ProcessorConfig } from "./processing/index";
import {
  addSettingOptions,
  describeValue,
  flagOf,
  mergeSettings,
  rawSettings,
  schemaOf,
  type Problem,
  type RawSettings as RawSettingsOf,
  type Setting,
  type Values,
} from "./settings/declare";
import {
  boolean,
  consumerGroupName,
  containerName,
  entityName,
  eventHubConnectionString,
  hostName,
  httpUrl,
  integer,
  oneOf,
  parsed,
  storageConnectionString,
  text,
} from "./settings/values";
import { SINKS, type SinkConfig } from "./sinks/index";

const EVENT_HUBS = "Event Hubs:";
const STORAGE = "Checkpoint and dead-letter storage:";
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
  EVENTHUB_CONNECTION_STRING: { group: EVENT_HUBS, value: eventHubConnectionString, secret: true,
    help: "Event Hubs connection string (namespace- or hub-level, with Listen rights). Alternative to EVENTHUB_NAMESPACE" },
  EVENTHUB_NAMESPACE: { group: EVENT_HUBS, value: hostName,
    help: "fully qualified namespace (e.g. myns.servicebus.windows.net), authenticated with DefaultAzureCredential" },
  EVENTHUB_NAME: { group: EVENT_HUBS, value: entityName, help: "event hub name; optional when the connection string has EntityPath (then it must match)" },
  EVENTHUB_CONSUMER_GROUP: { group: EVENT_HUBS, value: consumerGroupName, default: WORKERS_CONSUMER_GROUP, help: "consumer group the workers share" },
  EVENTHUB_MAX_RETRIES: { group: EVENT_HUBS, value: integer(0, 20), default: "3", help: "SDK retries per AMQP operation" },
  EVENTHUB_RETRY_DELAY_MS: { group: EVENT_HUBS, value: integer(1, 60_000), default: "1000", help: "SDK delay between AMQP retries (ms)" },
  EVENTHUB_OPERATION_TIMEOUT_MS: { group: EVENT_HUBS, value: integer(1000, 600_000), default: "60000", help: "SDK timeout per AMQP operation (ms)" },

  STORAGE_CONNECTION_STRING: { group: STORAGE, value: storageConnectionString, secret: true,
    help: "storage account connection string. Alternative to STORAGE_ACCOUNT_URL" },
  STORAGE_ACCOUNT_URL: { group: STORAGE, value: httpUrl("https://<account>.blob.core.windows.net"),
    help: "blob endpoint (e.g. https://acct.blob.core.windows.net), authenticated with DefaultAzureCredential" },
  CHECKPOINT_CONTAINER: { group: STORAGE, value: containerName, defaultShown: "checkpoints-<consumer group>",
    help: "container for checkpoints and ownership (one per consumer group)" },
  DEAD_LETTER_CONTAINER: { group: STORAGE, value: containerName, default: DEAD_LETTER_CONTAINER, help: "container for poison events" },
  CREATE_CONTAINERS: { group: STORAGE, value: boolean, default: "true", help: "create missing containers at start (false: fail with a clear error instead)" },

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
const schema = schemaOf(SETTINGS);

/** Which core settings must be present together; checked on the raw values so they are reported with value errors. */
function missingCore(raw: RawSettings): Problem[] {
  const problems: Problem[] = [];
  const has = (name: SettingName) => raw[name] !== undefined;
  const hasEntityPath = /(^|;)\s*EntityPath=/i.test(raw.EVENTHUB_CONNECTION_STRING ?? "");
  if (!has("EVENTHUB_CONNECTION_STRING") && !has("EVENTHUB_NAMESPACE"))
    problems.push(["EVENTHUB_CONNECTION_STRING", "required: set EVENTHUB_CONNECTION_STRING or EVENTHUB_NAMESPACE"]);
  if (has("EVENTHUB_CONNECTION_STRING") && has("EVENTHUB_NAMESPACE"))
    problems.push(["EVENTHUB_NAMESPACE", "set only one of EVENTHUB_CONNECTION_STRING and EVENTHUB_NAMESPACE"]);
  if (!has("EVENTHUB_NAME") && !hasEntityPath) problems.push(["EVENTHUB_NAME", "required unless the connection string has EntityPath"]);
  if (!has("STORAGE_CONNECTION_STRING") && !has("STORAGE_ACCOUNT_URL"))
    problems.push(["STORAGE_CONNECTION_STRING", "required: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL"]);
  if (has("STORAGE_CONNECTION_STRING") && has("STORAGE_ACCOUNT_URL"))
    problems.push(["STORAGE_ACCOUNT_URL", "set only one of STORAGE_CONNECTION_STRING and STORAGE_ACCOUNT_URL"]);
  return problems;
}

function coreConflicts(s: CoreValues): Problem[] {
  const problems: Problem[] = [];
  const entityPath = s.EVENTHUB_CONNECTION_STRING?.entityPath;
  if (s.EVENTHUB_NAME && entityPath && s.EVENTHUB_NAME !== entityPath)
    problems.push(["EVENTHUB_NAME", `must match the connection string's EntityPath "${entityPath}"`]);
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

export interface WorkerConfig {
  eventHub: {
    /** Exactly one of the two is set. */
    connectionString?: string;
    fullyQualifiedNamespace?: string;
    eventHubName: string;
    consumerGroup: string;
    retry: { maxRetries: number; retryDelayInMs: number; timeoutInMs: number };
  };
  storage: {
    /** Exactly one of the two is set. */
    connectionString?: string;
    accountUrl?: string;
    checkpointContainer: string;
    deadLetterContainer: string;
    createContainers: boolean;
  };
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
  const eventHubName = s.EVENTHUB_NAME ?? s.EVENTHUB_CONNECTION_STRING?.entityPath ?? "";
  const context = { eventHubName, consumerGroup: s.EVENTHUB_CONSUMER_GROUP, env };
  return {
    eventHub: {
      ...(s.EVENTHUB_CONNECTION_STRING
        ? { connectionString: s.EVENTHUB_CONNECTION_STRING.raw }
        : { fullyQualifiedNamespace: s.EVENTHUB_NAMESPACE }),
      eventHubName,
      consumerGroup: s.EVENTHUB_CONSUMER_GROUP,
      retry: {
        maxRetries: s.EVENTHUB_MAX_RETRIES,
        retryDelayInMs: s.EVENTHUB_RETRY_DELAY_MS,
        timeoutInMs: s.EVENTHUB_OPERATION_TIMEOUT_MS,
      },
    },
    storage: {
      ...(s.STORAGE_CONNECTION_STRING
        ? { connectionString: s.STORAGE_CONNECTION_STRING }
        : { accountUrl: s.STORAGE_ACCOUNT_URL }),
      checkpointContainer: s.CHECKPOINT_CONTAINER ?? checkpointContainerName(s.EVENTHUB_CONSUMER_GROUP),
      deadLetterContainer: s.DEAD_LETTER_CONTAINER,
      createContainers: s.CREATE_CONTAINERS,
    },
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
  const missing = [...missingCore(raw), ...missingForPlugins(raw, env)];
  const result = schema.safeParse(raw);
  let problems: Problem[] = missing;
  if (!result.success) {
    problems = [...missing, ...result.error.issues.map((issue): Problem => [String(issue.path[0]), issue.message])];
  } else {
    const values = result.data as Record<string, unknown>;
    const core = values as CoreValues;
    const conflicts = [
      ...coreConflicts(core),
      ...[core.PROCESSOR.plugin, core.SINK.plugin].flatMap((plugin: AnyPlugin) => plugin.conflicts?.(values as never) ?? []),
    ];
    problems = [...missing, ...conflicts];
    if (problems.length === 0) return { kind: "ok", config: toWorkerConfig(core, values, env) };
  }
  return {
    kind: "invalid",
    problems: problems.map(([name, message]) => {
      const setting: Setting = SETTINGS[name as SettingName];
      return `${name} (${flagOf(name)}) = ${describeValue(setting, raw[name as SettingName])}: ${message}`;
    }),
  };
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
