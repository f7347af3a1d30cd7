// Worker configuration: every setting is an environment variable and a command-line flag of the same
// name (EVENTHUB_NAME <-> --eventhub-name; the flag wins). Parsed and validated once, at the edge,
// before anything connects; every bad value is reported at once and the CLI exits with code 2.
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseEventHubConnectionString } from "@azure/event-hubs";
import { Ajv } from "ajv";
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import type { ModelTask } from "./processing/create-processor";
import type { ModelEndpointOptions } from "./processing/model/model-endpoint";

interface SettingSpec {
  group: string;
  help: string;
  /** What the help shows as the default; the real default lives in the schema below. */
  shownDefault?: string;
  /** Never echo the value in error messages. */
  secret?: boolean;
}

const EVENT_HUBS = "Event Hubs:";
const STORAGE = "Checkpoint and dead-letter storage:";
const TUNING = "Consumer tuning:";
const PROCESSING = "Processing:";
const AZURE_OPENAI = "Azure OpenAI (PROCESSOR=azure-openai):";
const OPENAI = "OpenAI or an OpenAI-compatible server such as Ollama, vLLM, LM Studio, llama.cpp (PROCESSOR=openai):";
const MODEL = "Remote model task and quota (PROCESSOR=azure-openai|openai):";
const SINK = "Result sink:";
const OPERATIONS = "Operations:";

const DEFAULT_THREADS = Math.max(1, availableParallelism() - 1);

export const SETTINGS = {
  EVENTHUB_CONNECTION_STRING: { group: EVENT_HUBS, secret: true,
    help: "Event Hubs connection string (namespace- or hub-level, with Listen rights). Alternative to EVENTHUB_NAMESPACE" },
  EVENTHUB_NAMESPACE: { group: EVENT_HUBS,
    help: "fully qualified namespace (e.g. myns.servicebus.windows.net), authenticated with DefaultAzureCredential" },
  EVENTHUB_NAME: { group: EVENT_HUBS,
    help: "event hub name; optional when the connection string has EntityPath (then it must match)" },
  EVENTHUB_CONSUMER_GROUP: { group: EVENT_HUBS, shownDefault: "ai-workers", help: "consumer group the workers share" },
  EVENTHUB_MAX_RETRIES: { group: EVENT_HUBS, shownDefault: "3", help: "SDK retries per AMQP operation" },
  EVENTHUB_RETRY_DELAY_MS: { group: EVENT_HUBS, shownDefault: "1000", help: "SDK delay between AMQP retries (ms)" },
  EVENTHUB_OPERATION_TIMEOUT_MS: { group: EVENT_HUBS, shownDefault: "60000", help: "SDK timeout per AMQP operation (ms)" },

  STORAGE_CONNECTION_STRING: { group: STORAGE, secret: true,
    help: "storage account connection string. Alternative to STORAGE_ACCOUNT_URL" },
  STORAGE_ACCOUNT_URL: { group: STORAGE,
    help: "blob endpoint (e.g. https://acct.blob.core.windows.net), authenticated with DefaultAzureCredential" },
  CHECKPOINT_CONTAINER: { group: STORAGE, shownDefault: "checkpoints-<consumer group>",
    help: "container for checkpoints and ownership (one per consumer group)" },
  DEAD_LETTER_CONTAINER: { group: STORAGE, shownDefault: "dead-letters", help: "container for poison events" },
  CREATE_CONTAINERS: { group: STORAGE, shownDefault: "true",
    help: "create missing containers at start (false: fail with a clear error instead)" },

  MAX_BATCH_SIZE: { group: TUNING, shownDefault: "100", help: "events per processEvents batch (SDK default 1)" },
  MAX_WAIT_MS: { group: TUNING, shownDefault: "1000", help: "longest wait to fill a batch (ms; SDK default 60000)" },
  PREFETCH_COUNT: { group: TUNING, shownDefault: "300", help: "events buffered ahead per partition" },
  START_POSITION: { group: TUNING, shownDefault: "earliest",
    help: "earliest|latest: where a partition without a checkpoint starts (SDK default latest skips history)" },
  CHECKPOINT_EVERY_EVENTS: { group: TUNING, shownDefault: "500",
    help: "checkpoint after this many durable events per partition (or CHECKPOINT_EVERY_MS, whichever first)" },
  CHECKPOINT_EVERY_MS: { group: TUNING, shownDefault: "5000",
    help: "checkpoint at least this often while a partition has durable, uncheckpointed progress (ms)" },
  LOAD_BALANCING: { group: TUNING, shownDefault: "greedy",
    help: "greedy|balanced: greedy claims its whole share at once, balanced one partition per interval" },
  LOAD_BALANCING_UPDATE_INTERVAL_MS: { group: TUNING, shownDefault: "10000",
    help: "how often ownership is renewed and rebalanced (ms)" },
  LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: { group: TUNING, shownDefault: "30000",
    help: "ownership not renewed for this long is taken over (ms; > update interval)" },

  PROCESSOR: { group: PROCESSING, shownDefault: "text-insights",
    help: "text-insights|azure-openai|openai|<path to a module exporting a Processor>" },
  PROCESSOR_THREADS: { group: PROCESSING, shownDefault: `CPUs - 1, at least 1 (${DEFAULT_THREADS} here)`,
    help: "worker threads for text-insights and module processors" },
  PROCESSOR_TIMEOUT_MS: { group: PROCESSING, shownDefault: "30000",
    help: "longest one event may take on a processing thread (ms); then it fails (retried, then dead-lettered) and a hung thread is replaced" },
  PROCESSOR_MAX_QUEUE: { group: PROCESSING, shownDefault: "1000",
    help: "tasks (a batch's share per thread) that may wait for a pool thread; beyond it callers wait (backpressure)" },
  RETRY_MAX_ATTEMPTS: { group: PROCESSING, shownDefault: "5",
    help: "attempts per event (processor) and per write (sink, dead letters, checkpoints)" },
  RETRY_BASE_DELAY_MS: { group: PROCESSING, shownDefault: "200", help: "first backoff delay (ms), exponential with jitter" },
  RETRY_MAX_DELAY_MS: { group: PROCESSING, shownDefault: "10000", help: "backoff delay cap (ms)" },

  AZURE_OPENAI_ENDPOINT: { group: AZURE_OPENAI, help: "https://<resource>.openai.azure.com (required for azure-openai)" },
  AZURE_OPENAI_DEPLOYMENT: { group: AZURE_OPENAI, help: "deployment name (required for azure-openai)" },
  AZURE_OPENAI_API_VERSION: { group: AZURE_OPENAI, shownDefault: "2024-10-21", help: "API version" },
  AZURE_OPENAI_API_KEY: { group: AZURE_OPENAI, secret: true, help: "API key; unset = Entra ID via DefaultAzureCredential" },

  OPENAI_BASE_URL: { group: OPENAI, shownDefault: "https://api.openai.com/v1",
    help: "the API's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama or http://127.0.0.1:8000/v1 for vLLM" },
  OPENAI_API_KEY: { group: OPENAI, secret: true, help: "API key (local servers usually need none)" },
  OPENAI_MODEL: { group: OPENAI, help: "model name, e.g. gpt-4o-mini, text-embedding-3-small, llama3.1 (required for openai)" },

  MODEL_TASK: { group: MODEL, shownDefault: "chat",
    help: "chat|structured|embeddings: a chat answer, a JSON object matching MODEL_JSON_SCHEMA, or an embedding vector" },
  MODEL_SYSTEM_PROMPT: { group: MODEL, shownDefault: "a customer-message triage prompt", help: "system prompt for chat and structured" },
  MODEL_JSON_SCHEMA: { group: MODEL,
    help: "path to a JSON Schema file; required for MODEL_TASK=structured (answers that do not match are retried, then dead-lettered)" },
  MODEL_MAX_OUTPUT_TOKENS: { group: MODEL, help: "max completion tokens per answer (unset: the model's default)" },
  MODEL_MAX_INPUT_TOKENS: { group: MODEL, shownDefault: "8000", help: "longest event text sent, in tokens" },
  MODEL_INPUT_OVERFLOW: { group: MODEL, shownDefault: "truncate",
    help: "truncate|dead-letter: what happens to an event text longer than MODEL_MAX_INPUT_TOKENS" },
  MODEL_MAX_CONCURRENCY: { group: MODEL, shownDefault: "64",
    help: "ceiling of the adaptive number of requests in flight (the worker finds the quota's level by itself)" },
  MODEL_INITIAL_CONCURRENCY: { group: MODEL, shownDefault: "4", help: "requests in flight at start, before adapting" },
  MODEL_MAX_REQUESTS_PER_MINUTE: { group: MODEL, help: "optional hard limit on requests per minute for this process" },
  MODEL_MAX_TOKENS_PER_MINUTE: { group: MODEL,
    help: "optional hard limit on tokens per minute for this process (prompt tokens estimated before sending + max output)" },
  MODEL_TIMEOUT_MS: { group: MODEL, shownDefault: "60000", help: "timeout per request (ms); a timeout is transient: the event waits" },
  MODEL_EMBEDDING_BATCH_SIZE: { group: MODEL, shownDefault: "256", help: "events per embeddings request (the API takes up to 2048)" },
  MODEL_EMBEDDING_DIMENSIONS: { group: MODEL, help: "vector size for models that can shorten it (text-embedding-3-*)" },

  SINK: { group: SINK, shownDefault: "stdout", help: "stdout|eventhub|blob: where results go" },
  SINK_EVENTHUB_CONNECTION_STRING: { group: SINK, secret: true,
    help: "results hub connection string (Send rights), for SINK=eventhub" },
  SINK_EVENTHUB_NAMESPACE: { group: SINK, help: "results hub namespace with DefaultAzureCredential, for SINK=eventhub" },
  SINK_EVENTHUB_NAME: { group: SINK, help: "results hub name (optional with EntityPath), for SINK=eventhub" },
  SINK_BLOB_CONTAINER: { group: SINK, shownDefault: "results",
    help: "container for JSON Lines results (in the storage account above), for SINK=blob" },
  SINK_BLOB_PREFIX: { group: SINK, shownDefault: "<hub>/<consumer group>/", help: "blob name prefix, for SINK=blob" },

  LOG_LEVEL: { group: OPERATIONS, shownDefault: "info", help: "fatal|error|warn|info|debug|trace|silent (logs go to stderr)" },
  METRICS_PORT: { group: OPERATIONS, shownDefault: "9464",
    help: "port for /metrics, /healthz, /readyz; 0 picks a free port (logged)" },
  METRICS_HOST: { group: OPERATIONS, shownDefault: "0.0.0.0", help: "interface the metrics server listens on" },
  SHUTDOWN_TIMEOUT_MS: { group: OPERATIONS, shownDefault: "25000",
    help: "SIGTERM/SIGINT: longest drain + checkpoint + close before exiting anyway (ms)" },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export type RawSettings = Partial<Record<SettingName, string>>;
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function flagOf(name: SettingName): string {
  return `--${name.toLowerCase().replaceAll("_", "-")}`;
}

// ---- value parsers: each reports one "allowed" message so errors read "NAME ...: allowed: <what>" ----

function parsed<T>(allowed: string, parse: (raw: string) => T | undefined) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `allowed: ${allowed}` });
      return z.NEVER;
    }
    return value;
  });
}

const integer = (min: number, max: number) =>
  parsed(`an integer from ${min} to ${max}`, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  });

const oneOf = <T extends string>(values: readonly T[]) =>
  parsed(values.join(" | "), (raw) => values.find((v) => v === raw.toLowerCase()));

const matching = (allowed: string, pattern: RegExp) => parsed(allowed, (raw) => (pattern.test(raw) ? raw : undefined));

const containerName = matching(
  "3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
  /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
);
const entityName = matching("1-50 characters: letters, digits, '.', '-', '_'", /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/);
const consumerGroupName = matching(
  "$Default or 1-50 characters: letters, digits, '.', '-', '_'",
  /^(\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})$/,
);
const hostName = parsed("a fully qualified host name such as myns.servicebus.windows.net", (raw) => {
  const host = raw.replace(/^(sb|https?):\/\//i, "").replace(/\/+$/, "");
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:\d+)?$/.test(host)
    ? host
    : undefined;
});
const httpUrl = (example: string) =>
  parsed(`an http(s) URL such as ${example}`, (raw) => {
    if (!URL.canParse(raw)) return undefined;
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? raw.replace(/\/+$/, "") : undefined;
  });
const eventHubConnectionString = parsed(
  "Endpoint=sb://<namespace>/;SharedAccessKeyName=<name>;SharedAccessKey=<key>[;EntityPath=<hub>]",
  (raw) => {
    try {
      const parts = parseEventHubConnectionString(raw);
      const hasKey = parts.sharedAccessKey !== undefined && parts.sharedAccessKeyName !== undefined;
      return hasKey || parts.sharedAccessSignature !== undefined ? { raw, entityPath: parts.eventHubName } : undefined;
    } catch {
      return undefined;
    }
  },
);
const storageConnectionString = parsed(
  "DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>;... (or UseDevelopmentStorage=true)",
  (raw) => {
    const fields = new Map(
      raw.split(";").filter(Boolean).map((part) => {
        const at = part.indexOf("=");
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1)] as const;
      }),
    );
    const valid =
      fields.get("usedevelopmentstorage") === "true" ||
      (fields.has("accountname") && fields.has("accountkey")) ||
      fields.has("sharedaccesssignature");
    return valid ? raw : undefined;
  },
);
const boolean = parsed("true | false", (raw) => ({ true: true, false: false })[raw.toLowerCase()]);
const text = parsed("a non-empty text", (raw) => (raw.length > 0 ? raw : undefined));

const jsonSchemaFile = parsed("a readable JSON file holding a JSON Schema (an object)", (raw) => {
  try {
    const schema = JSON.parse(readFileSync(resolve(raw), "utf8")) as unknown;
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return undefined;
    new Ajv({ strict: false }).compile(schema);
    return schema as Record<string, unknown>;
  } catch {
    return undefined;
  }
});

const PROCESSOR_KINDS = ["text-insights", "azure-openai", "openai"] as const;
const processorChoice = parsed(
  `${PROCESSOR_KINDS.join(" | ")} | a path to an existing .js/.ts module`,
  (raw): { kind: (typeof PROCESSOR_KINDS)[number] } | { kind: "module"; modulePath: string } | undefined => {
    const builtIn = PROCESSOR_KINDS.find((kind) => kind === raw);
    if (builtIn) return { kind: builtIn };
    const modulePath = resolve(raw);
    return /\.(c|m)?(j|t)s$/.test(modulePath) && existsSync(modulePath) ? { kind: "module", modulePath } : undefined;
  },
);

export const DEFAULT_SYSTEM_PROMPT =
  "You triage customer messages. Reply with compact JSON: " +
  '{"intent": string, "sentiment": "positive"|"neutral"|"negative", "urgency": "low"|"medium"|"high", "summary": string}. ' +
  "Never repeat personal data such as emails or phone numbers.";

const schema = z
  .object({
    EVENTHUB_CONNECTION_STRING: eventHubConnectionString.optional(),
    EVENTHUB_NAMESPACE: hostName.optional(),
    EVENTHUB_NAME: entityName.optional(),
    EVENTHUB_CONSUMER_GROUP: consumerGroupName.default("ai-workers"),
    EVENTHUB_MAX_RETRIES: integer(0, 20).default(3),
    EVENTHUB_RETRY_DELAY_MS: integer(1, 60_000).default(1000),
    EVENTHUB_OPERATION_TIMEOUT_MS: integer(1000, 600_000).default(60_000),
    STORAGE_CONNECTION_STRING: storageConnectionString.optional(),
    STORAGE_ACCOUNT_URL: httpUrl("https://<account>.blob.core.windows.net").optional(),
    CHECKPOINT_CONTAINER: containerName.optional(),
    DEAD_LETTER_CONTAINER: containerName.default("dead-letters"),
    CREATE_CONTAINERS: boolean.default(true),
    MAX_BATCH_SIZE: integer(1, 5000).default(100),
    MAX_WAIT_MS: integer(10, 600_000).default(1000),
    PREFETCH_COUNT: integer(1, 100_000).default(300),
    START_POSITION: oneOf(["earliest", "latest"] as const).default("earliest"),
    CHECKPOINT_EVERY_EVENTS: integer(1, 1_000_000).default(500),
    CHECKPOINT_EVERY_MS: integer(10, 3_600_000).default(5000),
    LOAD_BALANCING: oneOf(["greedy", "balanced"] as const).default("greedy"),
    LOAD_BALANCING_UPDATE_INTERVAL_MS: integer(100, 600_000).default(10_000),
    LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: integer(1000, 3_600_000).default(30_000),
    PROCESSOR: processorChoice.default({ kind: "text-insights" }),
    PROCESSOR_THREADS: integer(1, 256).default(DEFAULT_THREADS),
    PROCESSOR_TIMEOUT_MS: integer(10, 3_600_000).default(30_000),
    PROCESSOR_MAX_QUEUE: integer(1, 1_000_000).default(1000),
    RETRY_MAX_ATTEMPTS: integer(1, 100).default(5),
    RETRY_BASE_DELAY_MS: integer(1, 600_000).default(200),
    RETRY_MAX_DELAY_MS: integer(1, 3_600_000).default(10_000),
    AZURE_OPENAI_ENDPOINT: httpUrl("https://<resource>.openai.azure.com").optional(),
    AZURE_OPENAI_DEPLOYMENT: text.optional(),
    AZURE_OPENAI_API_VERSION: matching("a date-style API version such as 2024-10-21", /^\d{4}-\d{2}-\d{2}(-preview)?$/).default(
      "2024-10-21",
    ),
    AZURE_OPENAI_API_KEY: text.optional(),
    OPENAI_BASE_URL: httpUrl("http://127.0.0.1:11434/v1").default("https://api.openai.com/v1"),
    OPENAI_API_KEY: text.optional(),
    OPENAI_MODEL: text.optional(),
    MODEL_TASK: oneOf(["chat", "structured", "embeddings"] as const).default("chat"),
    MODEL_SYSTEM_PROMPT: text.default(DEFAULT_SYSTEM_PROMPT),
    MODEL_JSON_SCHEMA: jsonSchemaFile.optional(),
    MODEL_MAX_OUTPUT_TOKENS: integer(1, 1_000_000).optional(),
    MODEL_MAX_INPUT_TOKENS: integer(1, 10_000_000).default(8000),
    MODEL_INPUT_OVERFLOW: oneOf(["truncate", "dead-letter"] as const).default("truncate"),
    MODEL_MAX_CONCURRENCY: integer(1, 1000).default(64),
    MODEL_INITIAL_CONCURRENCY: integer(1, 1000).default(4),
    MODEL_MAX_REQUESTS_PER_MINUTE: integer(1, 100_000_000).optional(),
    MODEL_MAX_TOKENS_PER_MINUTE: integer(1, 1_000_000_000).optional(),
    MODEL_TIMEOUT_MS: integer(100, 600_000).default(60_000),
    MODEL_EMBEDDING_BATCH_SIZE: integer(1, 2048).default(256),
    MODEL_EMBEDDING_DIMENSIONS: integer(1, 100_000).optional(),
    SINK: oneOf(["stdout", "eventhub", "blob"] as const).default("stdout"),
    SINK_EVENTHUB_CONNECTION_STRING: eventHubConnectionString.optional(),
    SINK_EVENTHUB_NAMESPACE: hostName.optional(),
    SINK_EVENTHUB_NAME: entityName.optional(),
    SINK_BLOB_CONTAINER: containerName.default("results"),
    SINK_BLOB_PREFIX: text.optional(),
    LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const).default("info"),
    METRICS_PORT: integer(0, 65_535).default(9464),
    METRICS_HOST: text.default("0.0.0.0"),
    SHUTDOWN_TIMEOUT_MS: integer(100, 3_600_000).default(25_000),
  } satisfies Record<SettingName, z.ZodType>)
  .superRefine((s, ctx) => {
    const problem = (name: SettingName, message: string) => ctx.addIssue({ code: "custom", path: [name], message });
    const entityPath = s.EVENTHUB_CONNECTION_STRING?.entityPath;
    if (s.EVENTHUB_NAME && entityPath && s.EVENTHUB_NAME !== entityPath)
      problem("EVENTHUB_NAME", `must match the connection string's EntityPath "${entityPath}"`);
    if (s.LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS <= s.LOAD_BALANCING_UPDATE_INTERVAL_MS)
      problem("LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS", `must be greater than LOAD_BALANCING_UPDATE_INTERVAL_MS, which is ${s.LOAD_BALANCING_UPDATE_INTERVAL_MS}`);
    if (s.MODEL_TASK === "structured" && !s.MODEL_JSON_SCHEMA)
      problem("MODEL_JSON_SCHEMA", "required when MODEL_TASK=structured");
    if (s.MODEL_INITIAL_CONCURRENCY > s.MODEL_MAX_CONCURRENCY)
      problem("MODEL_INITIAL_CONCURRENCY", `must not exceed MODEL_MAX_CONCURRENCY, which is ${s.MODEL_MAX_CONCURRENCY}`);
    if (s.RETRY_MAX_DELAY_MS < s.RETRY_BASE_DELAY_MS)
      problem("RETRY_MAX_DELAY_MS", `must be at least RETRY_BASE_DELAY_MS, which is ${s.RETRY_BASE_DELAY_MS}`);
    const sinkPath = s.SINK_EVENTHUB_CONNECTION_STRING?.entityPath;
    if (s.SINK === "eventhub" && s.SINK_EVENTHUB_NAME && sinkPath && s.SINK_EVENTHUB_NAME !== sinkPath)
      problem("SINK_EVENTHUB_NAME", `must match the connection string's EntityPath "${sinkPath}"`);
  });

type Settings = z.output<typeof schema>;

/** Which settings must be present together; checked on the raw values so they are reported with value errors. */
function presenceProblems(raw: RawSettings): Array<[SettingName, string]> {
  const problems: Array<[SettingName, string]> = [];
  const has = (name: SettingName) => raw[name] !== undefined;
  const hasEntityPath = (name: SettingName) => /(^|;)\s*EntityPath=/i.test(raw[name] ?? "");
  if (!has("EVENTHUB_CONNECTION_STRING") && !has("EVENTHUB_NAMESPACE"))
    problems.push(["EVENTHUB_CONNECTION_STRING", "required: set EVENTHUB_CONNECTION_STRING or EVENTHUB_NAMESPACE"]);
  if (has("EVENTHUB_CONNECTION_STRING") && has("EVENTHUB_NAMESPACE"))
    problems.push(["EVENTHUB_NAMESPACE", "set only one of EVENTHUB_CONNECTION_STRING and EVENTHUB_NAMESPACE"]);
  if (!has("EVENTHUB_NAME") && !hasEntityPath("EVENTHUB_CONNECTION_STRING"))
    problems.push(["EVENTHUB_NAME", "required unless the connection string has EntityPath"]);
  if (!has("STORAGE_CONNECTION_STRING") && !has("STORAGE_ACCOUNT_URL"))
    problems.push(["STORAGE_CONNECTION_STRING", "required: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL"]);
  if (has("STORAGE_CONNECTION_STRING") && has("STORAGE_ACCOUNT_URL"))
    problems.push(["STORAGE_ACCOUNT_URL", "set only one of STORAGE_CONNECTION_STRING and STORAGE_ACCOUNT_URL"]);
  if (raw.PROCESSOR?.trim() === "azure-openai") {
    if (!has("AZURE_OPENAI_ENDPOINT")) problems.push(["AZURE_OPENAI_ENDPOINT", "required when PROCESSOR=azure-openai"]);
    if (!has("AZURE_OPENAI_DEPLOYMENT")) problems.push(["AZURE_OPENAI_DEPLOYMENT", "required when PROCESSOR=azure-openai"]);
  }
  if (raw.PROCESSOR?.trim() === "openai" && !has("OPENAI_MODEL")) problems.push(["OPENAI_MODEL", "required when PROCESSOR=openai"]);
  if (raw.SINK?.trim().toLowerCase() === "eventhub") {
    if (!has("SINK_EVENTHUB_CONNECTION_STRING") && !has("SINK_EVENTHUB_NAMESPACE"))
      problems.push(["SINK_EVENTHUB_CONNECTION_STRING", "required when SINK=eventhub (or SINK_EVENTHUB_NAMESPACE)"]);
    if (has("SINK_EVENTHUB_CONNECTION_STRING") && has("SINK_EVENTHUB_NAMESPACE"))
      problems.push(["SINK_EVENTHUB_NAMESPACE", "set only one of SINK_EVENTHUB_CONNECTION_STRING and SINK_EVENTHUB_NAMESPACE"]);
    if (!has("SINK_EVENTHUB_NAME") && !hasEntityPath("SINK_EVENTHUB_CONNECTION_STRING"))
      problems.push(["SINK_EVENTHUB_NAME", "required when SINK=eventhub unless the connection string has EntityPath"]);
  }
  return problems;
}

export type ProcessorConfig =
  | { kind: "text-insights"; threads: number; maxQueue: number; timeoutMs: number }
  | { kind: "module"; modulePath: string; threads: number; maxQueue: number; timeoutMs: number }
  /** A remote model; Entra ID credentials and telemetry are added when the worker starts. */
  | { kind: "model"; endpoint: Omit<ModelEndpointOptions, "telemetry">; task: ModelTask };

export type SinkConfig =
  | { kind: "stdout" }
  | { kind: "eventhub"; connectionString?: string; fullyQualifiedNamespace?: string; eventHubName: string }
  | { kind: "blob"; container: string; prefix: string };

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
  processor: ProcessorConfig;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  sink: SinkConfig;
  logLevel: Settings["LOG_LEVEL"];
  metrics: { host: string; port: number };
  shutdownTimeoutMs: number;
}

/** checkpoints-<consumer group>, lower-cased, characters outside [a-z0-9-] replaced by "-". */
export function defaultCheckpointContainer(consumerGroup: string): string {
  const name = `checkpoints-${consumerGroup.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`
    .replace(/-{2,}/g, "-")
    .replace(/-+$/, "")
    .slice(0, 63);
  return name.replace(/-+$/, "");
}

/** Embeddings requests stay under the API's per-request token limit (300,000 on OpenAI and Azure OpenAI). */
const EMBEDDING_TOKENS_PER_REQUEST = 300_000;

function toModelConfig(s: Settings, provider: "azure-openai" | "openai"): ProcessorConfig {
  const budget = { maxInputTokens: s.MODEL_MAX_INPUT_TOKENS, overflow: s.MODEL_INPUT_OVERFLOW };
  const task: ModelTask =
    s.MODEL_TASK === "embeddings"
      ? {
          kind: "embeddings",
          maxInputsPerRequest: s.MODEL_EMBEDDING_BATCH_SIZE,
          maxTokensPerRequest: EMBEDDING_TOKENS_PER_REQUEST,
          budget,
          ...(s.MODEL_EMBEDDING_DIMENSIONS !== undefined ? { dimensions: s.MODEL_EMBEDDING_DIMENSIONS } : {}),
        }
      : {
          kind: "chat",
          systemPrompt: s.MODEL_SYSTEM_PROMPT,
          budget,
          ...(s.MODEL_TASK === "structured" && s.MODEL_JSON_SCHEMA ? { jsonSchema: { name: "result", schema: s.MODEL_JSON_SCHEMA } } : {}),
          ...(s.MODEL_MAX_OUTPUT_TOKENS !== undefined ? { maxOutputTokens: s.MODEL_MAX_OUTPUT_TOKENS } : {}),
        };
  const connection: ModelEndpointOptions["connection"] =
    provider === "azure-openai"
      ? {
          provider,
          endpoint: s.AZURE_OPENAI_ENDPOINT ?? "",
          deployment: s.AZURE_OPENAI_DEPLOYMENT ?? "",
          apiVersion: s.AZURE_OPENAI_API_VERSION,
          ...(s.AZURE_OPENAI_API_KEY ? { apiKey: s.AZURE_OPENAI_API_KEY } : {}),
        }
      : { provider, baseUrl: s.OPENAI_BASE_URL, model: s.OPENAI_MODEL ?? "", ...(s.OPENAI_API_KEY ? { apiKey: s.OPENAI_API_KEY } : {}) };
  return {
    kind: "model",
    endpoint: {
      connection,
      timeoutMs: s.MODEL_TIMEOUT_MS,
      governor: {
        maxConcurrency: s.MODEL_MAX_CONCURRENCY,
        initialConcurrency: s.MODEL_INITIAL_CONCURRENCY,
        ...(s.MODEL_MAX_REQUESTS_PER_MINUTE !== undefined ? { maxRequestsPerMinute: s.MODEL_MAX_REQUESTS_PER_MINUTE } : {}),
        ...(s.MODEL_MAX_TOKENS_PER_MINUTE !== undefined ? { maxTokensPerMinute: s.MODEL_MAX_TOKENS_PER_MINUTE } : {}),
      },
    },
    task,
  };
}

function toWorkerConfig(s: Settings): WorkerConfig {
  const eventHubName = s.EVENTHUB_NAME ?? s.EVENTHUB_CONNECTION_STRING?.entityPath ?? "";
  const processor: ProcessorConfig =
    s.PROCESSOR.kind === "module"
      ? { kind: "module", modulePath: s.PROCESSOR.modulePath, threads: s.PROCESSOR_THREADS, maxQueue: s.PROCESSOR_MAX_QUEUE, timeoutMs: s.PROCESSOR_TIMEOUT_MS }
      : s.PROCESSOR.kind === "text-insights"
        ? { kind: "text-insights", threads: s.PROCESSOR_THREADS, maxQueue: s.PROCESSOR_MAX_QUEUE, timeoutMs: s.PROCESSOR_TIMEOUT_MS }
        : toModelConfig(s, s.PROCESSOR.kind);
  const sink: SinkConfig =
    s.SINK === "eventhub"
      ? {
          kind: "eventhub",
          ...(s.SINK_EVENTHUB_CONNECTION_STRING
            ? { connectionString: s.SINK_EVENTHUB_CONNECTION_STRING.raw }
            : { fullyQualifiedNamespace: s.SINK_EVENTHUB_NAMESPACE }),
          eventHubName: s.SINK_EVENTHUB_NAME ?? s.SINK_EVENTHUB_CONNECTION_STRING?.entityPath ?? "",
        }
      : s.SINK === "blob"
        ? {
            kind: "blob",
            container: s.SINK_BLOB_CONTAINER,
            prefix: s.SINK_BLOB_PREFIX ?? `${eventHubName}/${s.EVENTHUB_CONSUMER_GROUP}/`.toLowerCase(),
          }
        : { kind: "stdout" };
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
      checkpointContainer: s.CHECKPOINT_CONTAINER ?? defaultCheckpointContainer(s.EVENTHUB_CONSUMER_GROUP),
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
    processor,
    retry: { maxAttempts: s.RETRY_MAX_ATTEMPTS, baseDelayMs: s.RETRY_BASE_DELAY_MS, maxDelayMs: s.RETRY_MAX_DELAY_MS },
    sink,
    logLevel: s.LOG_LEVEL,
    metrics: { host: s.METRICS_HOST, port: s.METRICS_PORT },
    shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS,
  };
}

export type ConfigResult =
  | { kind: "ok"; config: WorkerConfig }
  | { kind: "invalid"; problems: string[] }
  | { kind: "exit"; exitCode: number }; // --help, or a command-line syntax error commander already printed

function describeValue(name: SettingName, raw: RawSettings): string {
  const value = raw[name];
  const shownDefault = (SETTINGS[name] as SettingSpec).shownDefault;
  if (value === undefined) return shownDefault ? `(not set, so the default ${shownDefault})` : "(not set)";
  return (SETTINGS[name] as SettingSpec).secret ? `(${value.length} characters, hidden)` : JSON.stringify(value);
}

/** Validates already-merged raw settings; one message per problem: name, flag, value, what is allowed. */
export function validateSettings(raw: RawSettings): ConfigResult {
  const missing = presenceProblems(raw);
  const result = schema.safeParse(raw);
  if (result.success && missing.length === 0) return { kind: "ok", config: toWorkerConfig(result.data) };
  const invalid = (result.error?.issues ?? []).map((issue) => [issue.path[0] as SettingName, issue.message] as const);
  const problems = [...missing, ...invalid].map(
    ([name, message]) => `${name} (${flagOf(name)}) = ${describeValue(name, raw)}: ${message}`,
  );
  return { kind: "invalid", problems };
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
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS[name];
    const shown = spec.shownDefault ? ` (default: ${spec.shownDefault})` : "";
    command.addOption(new Option(`${flagOf(name)} <value>`, `${spec.help}${shown} [env: ${name}]`).helpGroup(spec.group));
  }
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
    if (error instanceof CommanderError) return { kind: "exit", exitCode: error.exitCode === 0 ? 0 : 2 };
    throw error;
  }
  const flags = command.opts<Record<string, string | undefined>>();
  const raw: RawSettings = {};
  for (const name of SETTING_NAMES) {
    const fromFlag = flags[new Option(flagOf(name)).attributeName()];
    const value = fromFlag ?? env[name];
    // An empty environment variable means "not set", as in most deployment tools.
    if (value !== undefined && (fromFlag !== undefined || value !== "")) raw[name] = value;
  }
  const renamed = Object.entries(RENAMED_SETTINGS)
    .filter(([old]) => env[old] !== undefined && env[old] !== "")
    .map(([old, now]) => `${old} was renamed ${now} (${flagOf(now)}): set that instead`);
  const result = validateSettings(raw);
  if (renamed.length === 0) return result;
  return { kind: "invalid", problems: [...renamed, ...(result.kind === "invalid" ? result.problems : [])] };
}

/** Settings of earlier versions: a deployment that still sets one is told its new name instead of being ignored. */
const RENAMED_SETTINGS: Record<string, SettingName> = {
  AZURE_OPENAI_SYSTEM_PROMPT: "MODEL_SYSTEM_PROMPT",
  AZURE_OPENAI_MAX_CONCURRENCY: "MODEL_MAX_CONCURRENCY",
  AZURE_OPENAI_TIMEOUT_MS: "MODEL_TIMEOUT_MS",
};
