// MODEL_DEPLOYMENTS: the model deployments a worker calls, as a JSON list (or @path/to/file.json). One object per
// deployment; the worker routes to the lowest priority number first, spills to the next when those are full,
// and shares one priority by weight. Pure: parsing and every rule, so the worker's settings, the Pulumi stack
// (which writes this list) and the tests share one definition. Keys never appear here: `apiKeyEnv` names the
// environment variable that holds one, and no message ever prints a value that could be a key.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const MODEL_PROVIDERS = ["azure-openai", "openai"] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** The Azure OpenAI data-plane API version used when a deployment names none. */
export const DEFAULT_AZURE_OPENAI_API_VERSION = "2024-10-21";
export const AZURE_OPENAI_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";

/** One deployment as MODEL_DEPLOYMENTS writes it (what the stack builds and the worker reads). */
export interface ModelDeploymentSpec {
  /** Unique in the list; names the deployment in results, spans, metrics, logs and readiness. */
  name: string;
  provider: ModelProvider;
  /** azure-openai: https://<resource>.openai.azure.com */
  endpoint?: string;
  /** azure-openai: the deployment's name in the account. */
  deployment?: string;
  /** azure-openai: the data-plane API version. */
  apiVersion?: string;
  /** openai: the API's base URL (OpenAI, or a compatible server such as Ollama or vLLM). */
  baseUrl?: string;
  /** openai: the model name sent with each request. */
  model?: string;
  /** The environment variable that holds the API key; absent: Entra ID (azure-openai) or no key (openai). */
  apiKeyEnv?: string;
  /** 0 is used first; higher numbers take what the lower ones cannot admit. */
  priority?: number;
  /** Share within one priority. */
  weight?: number;
  /** The deployment's quota, for the whole fleet of workers that calls it. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A parsed deployment, defaults applied. Its key, if any, is read from `apiKeyEnv` when the worker starts. */
export type ModelDeployment =
  | (DeploymentCommon & { provider: "azure-openai"; endpoint: string; deployment: string; apiVersion: string })
  | (DeploymentCommon & { provider: "openai"; baseUrl: string; model: string });

interface DeploymentCommon {
  name: string;
  apiKeyEnv?: string;
  priority: number;
  weight: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export const MAX_DEPLOYMENTS = 32;
export const DEPLOYMENT_NAME_RULE = "1-64 letters, digits, '.', '-' or '_'";
const DEPLOYMENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PRIORITY = 100;
const MAX_WEIGHT = 1000;
const MAX_REQUESTS_PER_MINUTE = 100_000_000;
const MAX_TOKENS_PER_MINUTE = 1_000_000_000;

const COMMON_KEYS = ["name", "provider", "apiKeyEnv", "priority", "weight", "requestsPerMinute", "tokensPerMinute"] as const;
const PROVIDER_KEYS: Record<ModelProvider, readonly string[]> = {
  "azure-openai": ["endpoint", "deployment", "apiVersion"],
  openai: ["baseUrl", "model"],
};
const ALL_KEYS = new Set<string>([...COMMON_KEYS, ...PROVIDER_KEYS["azure-openai"], ...PROVIDER_KEYS.openai]);

/** The deployments that parsed (all of them when ok), and every problem found. */
export type DeploymentsResult = { ok: true; deployments: ModelDeployment[] } | { ok: false; deployments: ModelDeployment[]; problems: string[] };

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses MODEL_DEPLOYMENTS: JSON text, or `@path` to a JSON file. Every problem is reported, each naming the
 * deployment (position and name) and what is allowed. Whether the variables `apiKeyEnv` names are set is
 * keyProblems' business: it needs the environment.
 */
export function parseModelDeployments(raw: string): DeploymentsResult {
  const text = raw.trim();
  let source = "the value";
  let json = text;
  if (text.startsWith("@")) {
    const path = resolve(text.slice(1));
    source = `the file ${path}`;
    try {
      json = readFileSync(path, "utf8");
    } catch (error) {
      return { ok: false, deployments: [], problems: [`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`] };
    }
  }
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch (error) {
    // JSON.parse quotes the text around the error, which may hold a key pasted by mistake: give the position only.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    return { ok: false, deployments: [], problems: [`${source} is not JSON${at === undefined ? "" : ` (error at character ${Number(at) + 1})`}: expected a list of deployment objects`] };
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_DEPLOYMENTS) {
    return { ok: false, deployments: [], problems: [`${source} must be a JSON list of 1-${MAX_DEPLOYMENTS} deployment objects, e.g. [{"name":"primary","provider":"azure-openai","endpoint":"https://<resource>.openai.azure.com","deployment":"gpt-4o-mini"}]`] };
  }
  const problems: string[] = [];
  const deployments: ModelDeployment[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const parsed = parseOne(item, index);
    problems.push(...parsed.problems);
    if (!parsed.deployment) return;
    const key = parsed.deployment.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) problems.push(`${label(index, parsed.deployment.name)}: the name is already used by deployment ${first + 1} (names are unique, case-insensitive)`);
    else seen.set(key, index);
    deployments.push(parsed.deployment);
  });
  return problems.length > 0 ? { ok: false, deployments, problems } : { ok: true, deployments };
}

function label(index: number, name: unknown): string {
  return typeof name === "string" && DEPLOYMENT_NAME.test(name) ? `deployment ${index + 1} ("${name}")` : `deployment ${index + 1}`;
}

function parseOne(item: unknown, index: number): { deployment?: ModelDeployment; problems: string[] } {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return { problems: [`deployment ${index + 1}: must be an object`] };
  const spec = item as Record<string, unknown>;
  const where = label(index, spec.name);
  const problems: string[] = [];
  const problem = (message: string) => problems.push(`${where}: ${message}`);

  for (const key of Object.keys(spec)) {
    // The key's value is never shown: an unknown key is often a secret put in the wrong place.
    if (!ALL_KEYS.has(key)) problem(`unknown key "${key}"; allowed: ${[...ALL_KEYS].join(", ")}${/key|secret|token/i.test(key) ? " (put an API key in an environment variable and name it in apiKeyEnv)" : ""}`);
  }
  const name = spec.name;
  if (typeof name !== "string" || !DEPLOYMENT_NAME.test(name)) problem(`name must be ${DEPLOYMENT_NAME_RULE}`);
  const provider = spec.provider;
  if (!MODEL_PROVIDERS.includes(provider as ModelProvider)) problem(`provider must be one of ${MODEL_PROVIDERS.join(", ")}`);
  else {
    const other = MODEL_PROVIDERS.find((p) => p !== provider) as ModelProvider;
    for (const key of PROVIDER_KEYS[other]) if (key in spec) problem(`${key} is for provider ${other}, not ${String(provider)}`);
  }

  const text = (key: string, required: boolean): string | undefined => {
    const value = spec[key];
    if (value === undefined) {
      if (required) problem(`${key} is required for provider ${String(provider)}`);
      return undefined;
    }
    if (typeof value !== "string" || value.trim() === "") {
      problem(`${key} must be a non-empty string`);
      return undefined;
    }
    return value.trim();
  };
  const url = (key: string, required: boolean): string | undefined => {
    const value = text(key, required);
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      problem(`${key} must be an http(s) URL`);
      return undefined;
    }
    return value.replace(/\/+$/, "");
  };
  const whole = (key: string, min: number, max: number, fallback?: number): number | undefined => {
    const value = spec[key];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problem(`${key} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };

  const priority = whole("priority", 0, MAX_PRIORITY, 0);
  const weight = whole("weight", 1, MAX_WEIGHT, 1);
  const requestsPerMinute = whole("requestsPerMinute", 1, MAX_REQUESTS_PER_MINUTE);
  const tokensPerMinute = whole("tokensPerMinute", 1, MAX_TOKENS_PER_MINUTE);

  const apiKeyEnv = spec.apiKeyEnv;
  if (apiKeyEnv !== undefined && (typeof apiKeyEnv !== "string" || !ENV_NAME.test(apiKeyEnv))) {
    problem("apiKeyEnv must be the name of an environment variable (letters, digits, _), not the key itself");
  }

  let deployment: ModelDeployment | undefined;
  const common = {
    name: name as string,
    priority: priority as number,
    weight: weight as number,
    ...(typeof apiKeyEnv === "string" ? { apiKeyEnv } : {}),
    ...(requestsPerMinute !== undefined ? { requestsPerMinute } : {}),
    ...(tokensPerMinute !== undefined ? { tokensPerMinute } : {}),
  };
  if (provider === "azure-openai") {
    const endpoint = url("endpoint", true);
    const deploymentName = text("deployment", true);
    const apiVersion = text("apiVersion", false) ?? DEFAULT_AZURE_OPENAI_API_VERSION;
    if (!AZURE_OPENAI_API_VERSION.test(apiVersion)) problem("apiVersion must be a date-style API version such as 2024-10-21");
    if (endpoint !== undefined && deploymentName !== undefined) deployment = { ...common, provider, endpoint, deployment: deploymentName, apiVersion };
  } else if (provider === "openai") {
    const baseUrl = url("baseUrl", false) ?? DEFAULT_OPENAI_BASE_URL;
    const model = text("model", true);
    if (model !== undefined) deployment = { ...common, provider, baseUrl, model };
  }
  return problems.length > 0 ? { problems } : { deployment: deployment as ModelDeployment, problems };
}

/** A problem for each deployment whose apiKeyEnv names a variable that is not set or empty. */
export function keyProblems(deployments: readonly ModelDeployment[], env: Environment): string[] {
  return deployments
    .filter((d) => d.apiKeyEnv !== undefined && (env[d.apiKeyEnv] ?? "").trim() === "")
    .map((d) => `deployment "${d.name}": apiKeyEnv names ${d.apiKeyEnv}, which is not set or empty`);
}

/** The key of a deployment, from the variable its apiKeyEnv names (undefined: Entra ID, or no key). */
export function apiKeyOf(deployment: ModelDeployment, env: Environment): string | undefined {
  return deployment.apiKeyEnv === undefined ? undefined : env[deployment.apiKeyEnv]?.trim() || undefined;
}
