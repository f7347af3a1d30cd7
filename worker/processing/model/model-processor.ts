// PROCESSOR=azure-openai|openai: the settings both providers share (the task, its budget, the quota), and the
// processor they build: one model endpoint, wired to the worker's metrics and log, under a chat or
// embeddings processor.
import type { PluginRuntime } from "../../plugins";
import type { Problem, Values } from "../../settings/declare";
import { integer, jsonSchemaFile, oneOf, text } from "../../settings/values";
import type { Processor } from "../processor";
import { ChatProcessor, type ChatTaskOptions } from "./chat-processor";
import { EmbeddingsProcessor, type EmbeddingsTaskOptions } from "./embeddings-processor";
import { ModelEndpoint, type ModelConnection, type ModelEndpointOptions } from "./model-endpoint";

/** What a remote model is asked to do with each event. */
export type ModelTask = ({ kind: "chat" } & ChatTaskOptions) | ({ kind: "embeddings" } & EmbeddingsTaskOptions);

export interface ModelProcessorOptions {
  endpoint: ModelEndpointOptions;
  task: ModelTask;
}

export const DEFAULT_SYSTEM_PROMPT =
  "You triage customer messages. Reply with compact JSON: " +
  '{"intent": string, "sentiment": "positive"|"neutral"|"negative", "urgency": "low"|"medium"|"high", "summary": string}. ' +
  "Never repeat personal data such as emails or phone numbers.";

/** Embeddings requests stay under the API's per-request token limit (300,000 on OpenAI and Azure OpenAI). */
const EMBEDDING_TOKENS_PER_REQUEST = 300_000;

const GROUP = "Remote model task and quota (PROCESSOR=azure-openai|openai):";

export const MODEL_SETTINGS = {
  MODEL_TASK: { group: GROUP, value: oneOf(["chat", "structured", "embeddings"]), default: "chat",
    help: "chat|structured|embeddings: a chat answer, a JSON object matching MODEL_JSON_SCHEMA, or an embedding vector" },
  MODEL_SYSTEM_PROMPT: { group: GROUP, value: text, default: DEFAULT_SYSTEM_PROMPT, defaultShown: "a customer-message triage prompt",
    help: "system prompt for chat and structured" },
  MODEL_JSON_SCHEMA: { group: GROUP, value: jsonSchemaFile,
    help: "path to a JSON Schema file; required for MODEL_TASK=structured (answers that do not match are retried, then dead-lettered)" },
  MODEL_MAX_OUTPUT_TOKENS: { group: GROUP, value: integer(1, 1_000_000), help: "max completion tokens per answer (unset: the model's default)" },
  MODEL_MAX_INPUT_TOKENS: { group: GROUP, value: integer(1, 10_000_000), default: "8000", help: "longest event text sent, in tokens" },
  MODEL_INPUT_OVERFLOW: { group: GROUP, value: oneOf(["truncate", "dead-letter"]), default: "truncate",
    help: "truncate|dead-letter: what happens to an event text longer than MODEL_MAX_INPUT_TOKENS" },
  MODEL_MAX_CONCURRENCY: { group: GROUP, value: integer(1, 1000), default: "64",
    help: "ceiling of the adaptive number of requests in flight (the worker finds the quota's level by itself)" },
  MODEL_INITIAL_CONCURRENCY: { group: GROUP, value: integer(1, 1000), default: "4", help: "requests in flight at start, before adapting" },
  MODEL_MAX_REQUESTS_PER_MINUTE: { group: GROUP, value: integer(1, 100_000_000), help: "optional hard limit on requests per minute for this process" },
  MODEL_MAX_TOKENS_PER_MINUTE: { group: GROUP, value: integer(1, 1_000_000_000),
    help: "optional hard limit on tokens per minute for this process (prompt tokens estimated before sending + max output)" },
  MODEL_TIMEOUT_MS: { group: GROUP, value: integer(100, 600_000), default: "60000", help: "timeout per request (ms); a timeout is transient: the event waits" },
  MODEL_EMBEDDING_BATCH_SIZE: { group: GROUP, value: integer(1, 2048), default: "256", help: "events per embeddings request (the API takes up to 2048)" },
  MODEL_EMBEDDING_DIMENSIONS: { group: GROUP, value: integer(1, 100_000), help: "vector size for models that can shorten it (text-embedding-3-*)" },
} as const;

type ModelValues = Values<typeof MODEL_SETTINGS>;

export function modelConflicts(values: ModelValues): Problem[] {
  const problems: Problem[] = [];
  if (values.MODEL_TASK === "structured" && !values.MODEL_JSON_SCHEMA) problems.push(["MODEL_JSON_SCHEMA", "required when MODEL_TASK=structured"]);
  if (values.MODEL_INITIAL_CONCURRENCY > values.MODEL_MAX_CONCURRENCY)
    problems.push(["MODEL_INITIAL_CONCURRENCY", `must not exceed MODEL_MAX_CONCURRENCY, which is ${values.MODEL_MAX_CONCURRENCY}`]);
  return problems;
}

/** The processor's options for a model at `connection`, from the shared settings. */
export function modelOptions(values: ModelValues, connection: ModelConnection): ModelProcessorOptions {
  const budget = { maxInputTokens: values.MODEL_MAX_INPUT_TOKENS, overflow: values.MODEL_INPUT_OVERFLOW };
  const task: ModelTask =
    values.MODEL_TASK === "embeddings"
      ? {
          kind: "embeddings",
          maxInputsPerRequest: values.MODEL_EMBEDDING_BATCH_SIZE,
          maxTokensPerRequest: EMBEDDING_TOKENS_PER_REQUEST,
          budget,
          ...(values.MODEL_EMBEDDING_DIMENSIONS !== undefined ? { dimensions: values.MODEL_EMBEDDING_DIMENSIONS } : {}),
        }
      : {
          kind: "chat",
          systemPrompt: values.MODEL_SYSTEM_PROMPT,
          budget,
          ...(values.MODEL_TASK === "structured" && values.MODEL_JSON_SCHEMA ? { jsonSchema: { name: "result", schema: values.MODEL_JSON_SCHEMA } } : {}),
          ...(values.MODEL_MAX_OUTPUT_TOKENS !== undefined ? { maxOutputTokens: values.MODEL_MAX_OUTPUT_TOKENS } : {}),
        };
  return {
    endpoint: {
      connection,
      timeoutMs: values.MODEL_TIMEOUT_MS,
      governor: {
        maxConcurrency: values.MODEL_MAX_CONCURRENCY,
        initialConcurrency: values.MODEL_INITIAL_CONCURRENCY,
        ...(values.MODEL_MAX_REQUESTS_PER_MINUTE !== undefined ? { maxRequestsPerMinute: values.MODEL_MAX_REQUESTS_PER_MINUTE } : {}),
        ...(values.MODEL_MAX_TOKENS_PER_MINUTE !== undefined ? { maxTokensPerMinute: values.MODEL_MAX_TOKENS_PER_MINUTE } : {}),
      },
    },
    task,
  };
}

/** A chat or embeddings processor on one endpoint. */
export function createModelProcessor(options: ModelProcessorOptions): { processor: Processor; endpoint: ModelEndpoint } {
  const endpoint = new ModelEndpoint(options.endpoint);
  const { task } = options;
  const processor = task.kind === "embeddings" ? new EmbeddingsProcessor(endpoint, task) : new ChatProcessor(endpoint, task);
  return { processor, endpoint };
}

/** The same, reporting to the worker's metrics, with one log line per circuit change. */
export async function startModelProcessor(options: ModelProcessorOptions, { metrics, logger }: PluginRuntime): Promise<Processor> {
  const { processor, endpoint } = createModelProcessor({ ...options, endpoint: { ...options.endpoint, telemetry: metrics.modelTelemetry } });
  metrics.observeModel(endpoint);
  endpoint.onCircuitChange((state) => {
    const message = {
      open: "model circuit open: the model failed repeatedly; holding requests, events wait (none are dead-lettered)",
      "half-open": "model circuit half-open: probing the model with one request",
      closed: "model circuit closed: the model answers again",
    }[state];
    logger[state === "closed" ? "info" : "warn"]({ model: endpoint.model, circuit: state }, message);
  });
  return processor;
}
