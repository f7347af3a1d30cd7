// PROCESSOR=model|azure-openai|openai: the settings the three share (the deployments, the task, its budget, the
// pacing) and the options they make. The processor itself is in model-processor.ts, loaded only when one of the
// three starts (load-model-processor.ts): it brings the OpenAI client and the tokenizer, whose 200,000-entry table
// alone is over 10 MB of heap that the main thread would carry, and the garbage collector walk, for nothing
// under text-insights.
import { z } from "zod";
import type { Environment } from "../../plugins";
import type { Problem, Values } from "../../settings/declare";
import { integer, jsonSchema, oneOf, text, type SettingValue } from "../../settings/values";
import type { ChatTaskOptions } from "./chat-processor";
import { apiKeyOf, keyProblems, parseModelDeployments, type ModelDeployment } from "./deployments";
import type { EmbeddingsTaskOptions } from "./embeddings-processor";
import type { DeploymentOptions } from "./model-endpoint";
import type { RateGovernorOptions } from "./rate-governor";

/** What a remote model is asked to do with each event. */
export type ModelTask = ({ kind: "chat" } & ChatTaskOptions) | ({ kind: "embeddings" } & EmbeddingsTaskOptions);

export interface ModelProcessorOptions {
  deployments: DeploymentOptions[];
  timeoutMs: number;
  /** Per deployment, in this process. */
  governor: Omit<RateGovernorOptions, "now">;
  task: ModelTask;
}

export const DEFAULT_SYSTEM_PROMPT =
  "You triage customer messages. Reply with compact JSON: " +
  '{"intent": string, "sentiment": "positive"|"neutral"|"negative", "urgency": "low"|"medium"|"high", "summary": string}. ' +
  "Never repeat personal data such as emails or phone numbers.";

/** Embeddings requests stay under the API's per-request token limit (300,000 on OpenAI and Azure OpenAI). */
const EMBEDDING_TOKENS_PER_REQUEST = 300_000;

const GROUP = "Remote model task and pacing (PROCESSOR=model|azure-openai|openai):";

/** MODEL_DEPLOYMENTS: every structural problem is its own message; whether key variables are set is checked with the environment. */
const deploymentList: SettingValue<ModelDeployment[]> = z.string().transform((raw, ctx) => {
  const parsed = parseModelDeployments(raw);
  if (parsed.ok) return parsed.deployments;
  for (const message of parsed.problems) ctx.addIssue({ code: "custom", message });
  return z.NEVER;
});

export const MODEL_SETTINGS = {
  MODEL_DEPLOYMENTS: { group: GROUP, value: deploymentList, secret: true,
    help: "PROCESSOR=model: the deployments to call, as a JSON list or @path/to/file.json; each " +
      '{"name","provider":"azure-openai"|"openai","endpoint"+"deployment" (Azure) or "baseUrl"+"model","apiKeyEnv"?,' +
      '"priority"?,"weight"?,"requestsPerMinute"?,"tokensPerMinute"?}. See docs/fleet.md' },
  MODEL_TASK: { group: GROUP, value: oneOf(["chat", "structured", "embeddings"]), default: "chat",
    help: "chat|structured|embeddings: a chat answer, a JSON object matching MODEL_JSON_SCHEMA, or an embedding vector" },
  MODEL_SYSTEM_PROMPT: { group: GROUP, value: text, default: DEFAULT_SYSTEM_PROMPT, defaultShown: "a customer-message triage prompt",
    help: "system prompt for chat and structured" },
  MODEL_JSON_SCHEMA: { group: GROUP, value: jsonSchema,
    help: "a JSON Schema, inline or the path of a JSON file; required for MODEL_TASK=structured (answers that do not match are retried, then dead-lettered)" },
  MODEL_MAX_OUTPUT_TOKENS: { group: GROUP, value: integer(1, 1_000_000), help: "max completion tokens per answer (unset: the model's default)" },
  MODEL_MAX_INPUT_TOKENS: { group: GROUP, value: integer(1, 10_000_000), default: "8000", help: "longest event text sent, in tokens" },
  MODEL_INPUT_OVERFLOW: { group: GROUP, value: oneOf(["truncate", "dead-letter"]), default: "truncate",
    help: "truncate|dead-letter: what happens to an event text longer than MODEL_MAX_INPUT_TOKENS" },
  MODEL_MAX_CONCURRENCY: { group: GROUP, value: integer(1, 1000), default: "64",
    help: "ceiling of the adaptive number of requests in flight per deployment (the worker finds the quota's level by itself)" },
  MODEL_INITIAL_CONCURRENCY: { group: GROUP, value: integer(1, 1000), default: "4", help: "requests in flight per deployment at start, before adapting" },
  MODEL_MAX_REQUESTS_PER_MINUTE: { group: GROUP, value: integer(1, 100_000_000),
    help: "optional hard limit on requests per minute per deployment for this process (a deployment's quota for the whole fleet is its requestsPerMinute)" },
  MODEL_MAX_TOKENS_PER_MINUTE: { group: GROUP, value: integer(1, 1_000_000_000),
    help: "optional hard limit on tokens per minute per deployment for this process (prompt tokens estimated before sending + max output)" },
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

/** For the single-deployment processors: MODEL_DEPLOYMENTS belongs to PROCESSOR=model. */
export function singleDeploymentConflicts(values: ModelValues, processor: string): Problem[] {
  return values.MODEL_DEPLOYMENTS === undefined
    ? modelConflicts(values)
    : [...modelConflicts(values), ["MODEL_DEPLOYMENTS", `lists deployments for PROCESSOR=model; PROCESSOR=${processor} calls the one its own settings name. Set PROCESSOR=model, or unset MODEL_DEPLOYMENTS`]];
}

/** MODEL_DEPLOYMENTS' key variables, checked with the value errors so every problem shows at once. */
export function missingDeploymentKeys(raw: Partial<Record<"MODEL_DEPLOYMENTS", string>>, env: Environment): Problem[] {
  if (raw.MODEL_DEPLOYMENTS === undefined) return [];
  return keyProblems(parseModelDeployments(raw.MODEL_DEPLOYMENTS).deployments, env).map((message): Problem => ["MODEL_DEPLOYMENTS", message]);
}

/** A deployment of MODEL_DEPLOYMENTS with its key read from the variable it names. */
export function deploymentOptions(deployment: ModelDeployment, env: Environment): DeploymentOptions {
  const apiKey = apiKeyOf(deployment, env);
  const key = apiKey === undefined ? {} : { apiKey };
  const quota = {
    ...(deployment.requestsPerMinute !== undefined ? { requestsPerMinute: deployment.requestsPerMinute } : {}),
    ...(deployment.tokensPerMinute !== undefined ? { tokensPerMinute: deployment.tokensPerMinute } : {}),
  };
  return {
    name: deployment.name,
    priority: deployment.priority,
    weight: deployment.weight,
    quota,
    connection:
      deployment.provider === "azure-openai"
        ? { provider: "azure-openai", endpoint: deployment.endpoint, deployment: deployment.deployment, apiVersion: deployment.apiVersion, ...key }
        : { provider: "openai", baseUrl: deployment.baseUrl, model: deployment.model, ...key },
  };
}

/** The processor's options for `deployments`, from the shared settings. */
export function modelOptions(values: ModelValues, deployments: DeploymentOptions[]): ModelProcessorOptions {
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
    deployments,
    timeoutMs: values.MODEL_TIMEOUT_MS,
    governor: {
      maxConcurrency: values.MODEL_MAX_CONCURRENCY,
      initialConcurrency: values.MODEL_INITIAL_CONCURRENCY,
      ...(values.MODEL_MAX_REQUESTS_PER_MINUTE !== undefined ? { maxRequestsPerMinute: values.MODEL_MAX_REQUESTS_PER_MINUTE } : {}),
      ...(values.MODEL_MAX_TOKENS_PER_MINUTE !== undefined ? { maxTokensPerMinute: values.MODEL_MAX_TOKENS_PER_MINUTE } : {}),
    },
    task,
  };
}
