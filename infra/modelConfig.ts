import { Ajv } from "ajv";
import { z } from "zod";
import { jsonFromText, wholeNumberFromText } from "./configText";
import {
  DEPLOYMENT_SKUS,
  fitsSteps,
  isEmbeddingModel,
  isProvisioned,
  MAX_DEPLOYMENT_CAPACITY,
  PROVISIONED_MODEL_NAMES,
  provisionedSteps,
  UNCALLABLE_SKUS,
  type DeploymentSku,
} from "./openaiQuota";

/**
 * The stack setting `model`: what the hosted worker asks a remote model, the Azure OpenAI deployments the stack
 * creates for it, and deployments it uses without creating. Pure, like the rest of the config: raw value in, the
 * typed model or every problem (each at its path below `model`) out. Absent or `{}`: no model, the worker runs
 * text-insights.
 */

export const MODEL_TASKS = ["chat", "structured", "embeddings"] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** A deployment the stack creates in its Azure OpenAI account. */
export interface CreatedDeployment {
  /** The deployment's name in Azure and in the worker's results. */
  name: string;
  /** Base model, e.g. gpt-4o-mini. */
  model: string;
  version: string;
  sku: DeploymentSku;
  /** Rate-limit units (standard SKUs) or PTUs (provisioned SKUs). */
  capacity: number;
  priority: number;
  weight: number;
}

/** An Azure OpenAI deployment the stack does not create (another subscription, region or account), called with Entra ID. */
export interface ExistingDeployment {
  name: string;
  endpoint: string;
  /** Its name in its account. */
  deployment: string;
  apiVersion?: string;
  /** Its quota for the whole fleet; absent: the worker learns it from the 429s. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  priority: number;
  weight: number;
}

export interface ModelConfig {
  task: ModelTask;
  systemPrompt?: string;
  /** The JSON Schema every structured answer must match. */
  responseSchema?: Record<string, unknown>;
  deployments: CreatedDeployment[];
  existing: ExistingDeployment[];
}

/** A problem at a path below `model`, e.g. ["deployments", 0, "capacity"]. */
export interface ModelProblem {
  path: (string | number)[];
  /** The value as written; undefined when it is missing or not to be shown. */
  value: unknown;
  message: string;
}

/**
 * At most 32 of each: Azure's "Max Standard deployments per resource" (quotas-limits) for the ones the stack
 * creates, and the worker's MAX_DEPLOYMENTS for the whole list.
 */
export const MAX_MODEL_DEPLOYMENTS = 32;

/** What the worker accepts as a deployment's name; the one name serves Azure and the worker. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_RULE = "1-64 letters, digits, '.', '-' or '_'";
const MODEL_NAME = /^[a-z0-9][a-z0-9.-]{0,63}$/i;
/** The forms Azure's model list uses: 2024-07-18, turbo-2024-04-09, 0613, 1106-Preview, 1. */
const MODEL_VERSION = /^(?:(?:[a-z]+-)?\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])|\d{4}(?:-preview)?|\d{1,3})$/i;
const MODEL_VERSION_RULE =
  "a model version as Azure lists it: a date (2024-07-18), a prefixed date (turbo-2024-04-09), a release code (0613, 1106-Preview) or a number (1, 2)";
/** The worker's rule for an Azure OpenAI data-plane API version. */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const MAX_PRIORITY = 100;
const MAX_WEIGHT = 1000;
const MAX_REQUESTS_PER_MINUTE = 100_000_000;
const MAX_TOKENS_PER_MINUTE = 1_000_000_000;
const EMBEDDING_MODELS = "text-embedding-3-small, text-embedding-3-large or text-embedding-ada-002";

const requiredText = (rule: string, pattern: RegExp) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `is required: ${rule}` : `must be ${rule}`) })
    .trim()
    .regex(pattern, `must be ${rule}`);

const whole = (min: number, max: number, meaning: string) => {
  const allowed = `a whole number from ${min} to ${max} (${meaning})`;
  return z.preprocess(
    wholeNumberFromText,
    z
      .number({ error: (issue) => (issue.input === undefined ? `is required: ${allowed}` : `must be ${allowed}`) })
      .int(`must be ${allowed}`)
      .min(min, `must be ${allowed}`)
      .max(max, `must be ${allowed}`),
  );
};

/** An object that names the keys it allows when it meets another. */
const strictObject = <Shape extends z.ZodRawShape>(shape: Shape, what: string) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `allowed keys: ${Object.keys(shape).join(", ")}` : `must be ${what}`,
  });

const sku = z.enum(DEPLOYMENT_SKUS, {
  error: (issue) => {
    const why = typeof issue.input === "string" ? UNCALLABLE_SKUS[issue.input] : undefined;
    const allowed = DEPLOYMENT_SKUS.join(", ");
    if (issue.input === undefined) return `is required: one of ${allowed}`;
    return why === undefined ? `must be one of ${allowed} (Azure's deployment types)` : `cannot be used: ${why}. Use one of ${allowed}`;
  },
});

const priority = whole(0, MAX_PRIORITY, "0 is called first").default(0);
const weight = whole(1, MAX_WEIGHT, "share within one priority").default(1);

const CREATED = strictObject(
  {
    name: requiredText(NAME_RULE, NAME),
    model: requiredText("a base model name such as gpt-4o-mini", MODEL_NAME),
    version: requiredText(MODEL_VERSION_RULE, MODEL_VERSION),
    sku,
    capacity: whole(1, MAX_DEPLOYMENT_CAPACITY, "rate-limit units, or PTUs for the provisioned types"),
    priority,
    weight,
  },
  "a deployment: { name, model, version, sku, capacity, priority?, weight? }",
);

const httpsUrl = z
  .string({ error: (issue) => (issue.input === undefined ? "is required: the account's https endpoint" : "must be an https URL") })
  .trim()
  .refine((url) => URL.canParse(url) && new URL(url).protocol === "https:", "must be an https URL, e.g. https://<account>.openai.azure.com")
  .refine((url) => !URL.canParse(url) || (new URL(url).search === "" && new URL(url).hash === "" && new URL(url).username === ""), {
    error: "must be the account's endpoint alone: no query, fragment or credentials",
  })
  .transform((url) => url.replace(/\/+$/, ""));

const EXISTING = strictObject(
  {
    name: requiredText(NAME_RULE, NAME),
    endpoint: httpsUrl,
    deployment: requiredText(`its name in its account: ${NAME_RULE}`, NAME),
    apiVersion: z
      .string({ error: "must be a data-plane API version such as 2024-10-21" })
      .regex(API_VERSION, "must be a data-plane API version such as 2024-10-21")
      .optional(),
    requestsPerMinute: whole(1, MAX_REQUESTS_PER_MINUTE, "its quota for the whole fleet").optional(),
    tokensPerMinute: whole(1, MAX_TOKENS_PER_MINUTE, "its quota for the whole fleet").optional(),
    priority,
    weight,
  },
  "an existing deployment: { name, endpoint, deployment, apiVersion?, requestsPerMinute?, tokensPerMinute?, priority?, weight? }",
);

const MODEL = strictObject(
  {
    task: z.enum(MODEL_TASKS, { error: `must be one of ${MODEL_TASKS.join(", ")}` }).default("chat"),
    systemPrompt: z.string({ error: "must be text" }).trim().min(1, "must not be empty").optional(),
    responseSchema: z.preprocess(
      jsonFromText,
      z.record(z.string(), z.unknown(), { error: "must be a JSON Schema object (YAML, or JSON text)" }),
    ).optional(),
    deployments: z.array(z.unknown(), { error: "must be a list of deployments to create" }).default([]),
    existing: z.array(z.unknown(), { error: "must be a list of existing deployments" }).default([]),
  },
  "an object: { task, systemPrompt?, responseSchema?, deployments?, existing? }",
);

type Path = (string | number)[];

function problemsOf(issues: readonly z.core.$ZodIssue[], at: Path): ModelProblem[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? // The value is not shown: a key in the wrong place is often a secret.
        issue.keys.map((key) => ({ path: [...at, ...issue.path, key] as Path, value: undefined, message: `is not a key here; ${issue.message}` }))
      : [{ path: [...at, ...issue.path] as Path, value: issue.input, message: issue.message }],
  );
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Parses `model`; every problem is reported, each item of the lists parsed on its own so a bad one hides nothing. */
export function parseModelConfig(raw: unknown): { model?: ModelConfig; problems: ModelProblem[] } {
  const value = jsonFromText(raw);
  if (value === undefined || value === "" || (isObject(value) && Object.keys(value).length === 0)) return { problems: [] };

  const top = MODEL.safeParse(value, { reportInput: true });
  const problems = top.success ? [] : problemsOf(top.error.issues, []);
  if (!isObject(value)) return { problems };

  const parseEach = <T>(schema: z.ZodType<T>, list: "deployments" | "existing") =>
    asList(value[list]).map((item, index) => {
      const parsed = schema.safeParse(item, { reportInput: true });
      if (!parsed.success) problems.push(...problemsOf(parsed.error.issues, [list, index]));
      return parsed.success ? parsed.data : undefined;
    });
  const created = parseEach(CREATED, "deployments");
  const existing = parseEach(EXISTING, "existing");

  problems.push(...countProblems(value), ...duplicateNames(value));
  const task = top.success ? top.data.task : MODEL_TASKS.find((t) => t === (value.task ?? "chat"));
  created.forEach((deployment, index) => {
    if (deployment) problems.push(...deploymentProblems(deployment, task, ["deployments", index]));
  });
  if (task !== undefined) problems.push(...taskProblems(task, value));

  if (problems.length > 0 || !top.success) return { problems };
  return {
    model: {
      task: top.data.task,
      ...(top.data.systemPrompt === undefined ? {} : { systemPrompt: top.data.systemPrompt }),
      ...(top.data.responseSchema === undefined ? {} : { responseSchema: top.data.responseSchema }),
      deployments: created as CreatedDeployment[],
      existing: existing as ExistingDeployment[],
    },
    problems,
  };
}

function countProblems(value: Record<string, unknown>): ModelProblem[] {
  const created = asList(value.deployments).length;
  const total = created + asList(value.existing).length;
  const problem = (list: string, message: string): ModelProblem[] => [{ path: [list], value: undefined, message }];
  if (total === 0) return problem("deployments", "none listed: a model needs at least one deployment, created (deployments) or existing");
  if (created > MAX_MODEL_DEPLOYMENTS) {
    return problem("deployments", `lists ${created}; an Azure OpenAI account holds at most ${MAX_MODEL_DEPLOYMENTS} standard deployments`);
  }
  if (total > MAX_MODEL_DEPLOYMENTS) return problem("existing", `makes ${total} deployments in all; the worker calls at most ${MAX_MODEL_DEPLOYMENTS}`);
  return [];
}

/** One name serves Azure, MODEL_DEPLOYMENTS and the worker's results, so names are unique across both lists. */
function duplicateNames(value: Record<string, unknown>): ModelProblem[] {
  const seen = new Map<string, string>();
  const problems: ModelProblem[] = [];
  for (const list of ["deployments", "existing"] as const) {
    asList(value[list]).forEach((item, index) => {
      const name = isObject(item) ? item.name : undefined;
      if (typeof name !== "string") return;
      const first = seen.get(name.trim().toLowerCase());
      if (first === undefined) seen.set(name.trim().toLowerCase(), `${list}[${index}]`);
      else problems.push({ path: [list, index, "name"], value: name, message: `is already the name of ${first} (names are unique across deployments and existing, case-insensitive)` });
    });
  }
  return problems;
}

function deploymentProblems(deployment: CreatedDeployment, task: ModelTask | undefined, at: Path): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const { model, sku, capacity } = deployment;
  if (isProvisioned(sku)) {
    const steps = provisionedSteps(model, sku);
    if (steps === undefined) {
      problems.push({
        path: [...at, "model"],
        value: model,
        message: `has no provisioned (${sku}) sizes in Microsoft's PTU table, which lists ${PROVISIONED_MODEL_NAMES.join(", ")}; use a standard type or one of those models`,
      });
    } else if (!fitsSteps(capacity, steps)) {
      const sizes = [0, 1, 2].map((n) => steps.minimum + n * steps.increment).join(", ");
      problems.push({
        path: [...at, "capacity"],
        value: capacity,
        message: `${sku} deployments of ${model} take ${steps.minimum} PTUs or more, in steps of ${steps.increment} (${sizes}, ...)`,
      });
    }
  }
  if (task === "embeddings" && !isEmbeddingModel(model)) {
    problems.push({ path: [...at, "model"], value: model, message: `cannot answer the embeddings task: deploy an embedding model (${EMBEDDING_MODELS})` });
  } else if (task !== undefined && task !== "embeddings" && isEmbeddingModel(model)) {
    problems.push({ path: [...at, "model"], value: model, message: `is an embedding model and cannot answer the ${task} task: set task embeddings, or deploy a chat model` });
  }
  return problems;
}

function taskProblems(task: ModelTask, value: Record<string, unknown>): ModelProblem[] {
  const schema = jsonFromText(value.responseSchema);
  if (task === "structured") {
    if (schema === undefined) {
      return [{ path: ["responseSchema"], value: undefined, message: "is required when task is structured: the JSON Schema every answer must match" }];
    }
    return isObject(schema) ? schemaProblems(schema) : [];
  }
  const problems: ModelProblem[] = [];
  if (value.responseSchema !== undefined) {
    problems.push({ path: ["responseSchema"], value: undefined, message: `is used by the structured task only; the ${task} task would ignore it` });
  }
  if (task === "embeddings" && value.systemPrompt !== undefined) {
    problems.push({ path: ["systemPrompt"], value: undefined, message: "is used by the chat and structured tasks only; embeddings send the event text alone" });
  }
  return problems;
}

/**
 * A response schema the worker and Azure both take: it compiles (with the worker's own Ajv options), and it follows
 * Azure's structured-outputs rules ("Supported schemas and limitations"), since the worker asks for strict output:
 * the root is an object, every object sets additionalProperties: false and lists all its properties as required.
 */
function schemaProblems(schema: Record<string, unknown>): ModelProblem[] {
  try {
    new Ajv({ strict: false }).compile(schema);
  } catch (error) {
    return [{ path: ["responseSchema"], value: undefined, message: `does not compile as a JSON Schema: ${(error as Error).message}` }];
  }
  if (schema.type !== "object") {
    return [{ path: ["responseSchema", "type"], value: schema.type, message: 'must be "object": structured outputs answer with a JSON object (the root cannot be anyOf)' }];
  }
  return strictOutputProblems(schema, ["responseSchema"]);
}

function strictOutputProblems(node: unknown, at: Path): ModelProblem[] {
  if (!isObject(node)) return [];
  const problems: ModelProblem[] = [];
  const properties = isObject(node.properties) ? node.properties : undefined;
  if (node.type === "object" || properties !== undefined) {
    if (node.additionalProperties !== false) {
      problems.push({ path: [...at, "additionalProperties"], value: node.additionalProperties, message: "must be false: structured outputs require it on every object" });
    }
    const required = Array.isArray(node.required) ? node.required : [];
    const optional = Object.keys(properties ?? {}).filter((key) => !required.includes(key));
    if (optional.length > 0) {
      problems.push({
        path: [...at, "required"],
        value: node.required,
        message: `must list every property (missing ${optional.join(", ")}): structured outputs require all of them; make one optional with a type that allows null`,
      });
    }
  }
  const children: [Path, unknown][] = [
    ...Object.entries(properties ?? {}).map(([key, child]): [Path, unknown] => [[...at, "properties", key], child]),
    ...(["$defs", "definitions"] as const).flatMap((defs) =>
      Object.entries(isObject(node[defs]) ? node[defs] : {}).map(([key, child]): [Path, unknown] => [[...at, defs, key], child]),
    ),
    ...asList(node.anyOf).map((child, index): [Path, unknown] => [[...at, "anyOf", index], child]),
    ...(isObject(node.items) ? [[[...at, "items"], node.items] as [Path, unknown]] : []),
  ];
  return [...problems, ...children.flatMap(([path, child]) => strictOutputProblems(child, path))];
}
