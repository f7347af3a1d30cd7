/**
 * Azure OpenAI deployment types and what one unit of a deployment's capacity buys, in one place: config
 * validation checks capacities against it, the hosted worker's MODEL_DEPLOYMENTS gets each deployment's limits
 * from it, and KEDA's replica ceiling is derived from those limits. Nobody types a quota twice.
 *
 * Sources (Microsoft Learn, Azure OpenAI in Foundry Models):
 * - "Deployment types" (how-to/deployment-types): the SKU names below.
 * - "Manage Azure OpenAI quota" (how-to/quota) and "quotas and limits" (quotas-limits, "o-series rate limits"):
 *   capacity is allocated in units with a fixed RPM and TPM per model class, TPM in increments of 1,000.
 * - "Understanding costs associated with provisioned throughput units" (how-to/provisioned-throughput-onboarding):
 *   the minimum and increment of provisioned (PTU) deployments per model.
 */

/** Pay-per-token deployments: capacity is rate-limit units (TPM and RPM per unit, by model class). */
export const STANDARD_SKUS = ["Standard", "GlobalStandard", "DataZoneStandard"] as const;
/** Provisioned throughput: capacity is PTUs, whose throughput depends on the prompt and completion sizes. */
export const PROVISIONED_SKUS = ["ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged"] as const;
export const DEPLOYMENT_SKUS = [...STANDARD_SKUS, ...PROVISIONED_SKUS] as const;
export type DeploymentSku = (typeof DEPLOYMENT_SKUS)[number];

/**
 * SKUs Azure has that the worker cannot call: batch deployments take files through the Batch API, not
 * requests, and DeveloperTier serves fine-tuned models only (this stack deploys base models).
 */
export const UNCALLABLE_SKUS: Readonly<Record<string, string>> = {
  GlobalBatch: "a batch deployment takes files through the Batch API, not the requests the worker sends",
  DataZoneBatch: "a batch deployment takes files through the Batch API, not the requests the worker sends",
  DeveloperTier: "DeveloperTier serves fine-tuned models only; this stack deploys base models",
};

/** The most PTUs one deployment may have (quotas-limits: "Maximum number of Provisioned throughput units per deployment"). */
export const MAX_DEPLOYMENT_CAPACITY = 100_000;

/** Requests and tokens per minute that one capacity unit of a standard deployment allows. */
export interface UnitRate {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

interface ModelClass extends UnitRate {
  /** Base model names of the class, as `model` in the stack config. */
  models: readonly string[];
}

/**
 * Standard deployments, per capacity unit: the quota page's table, plus the gpt-4.1 series, whose quota table
 * lists 1 RPM per 1,000 TPM at every tier. Embeddings are not in Microsoft's table; Azure reports their
 * deployments with the chat ratio (a text-embedding-ada-002 deployment of 120 units shows 120,000 TPM and
 * 720 RPM), so they share the older chat models' figures.
 */
const MODEL_CLASSES: readonly ModelClass[] = [
  {
    models: ["gpt-35-turbo", "gpt-35-turbo-16k", "gpt-4", "gpt-4-32k", "gpt-4o", "gpt-4o-mini"],
    requestsPerMinute: 6,
    tokensPerMinute: 1_000,
  },
  { models: ["text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large"], requestsPerMinute: 6, tokensPerMinute: 1_000 },
  { models: ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"], requestsPerMinute: 1, tokensPerMinute: 1_000 },
  { models: ["o1", "o1-preview"], requestsPerMinute: 1, tokensPerMinute: 6_000 },
  { models: ["o1-mini", "o3-mini", "o3-pro"], requestsPerMinute: 1, tokensPerMinute: 10_000 },
  { models: ["o3", "o4-mini"], requestsPerMinute: 1, tokensPerMinute: 1_000 },
];

/** What one unit of a standard deployment of this model allows; undefined for a model the table does not know. */
export function standardUnitRate(model: string): UnitRate | undefined {
  const found = MODEL_CLASSES.find((c) => c.models.includes(model.toLowerCase()));
  return found && { requestsPerMinute: found.requestsPerMinute, tokensPerMinute: found.tokensPerMinute };
}

/** The models whose standard quota the table knows, for messages. */
export const KNOWN_STANDARD_MODELS = MODEL_CLASSES.flatMap((c) => c.models);

export function isProvisioned(sku: DeploymentSku): boolean {
  return (PROVISIONED_SKUS as readonly string[]).includes(sku);
}

/**
 * A deployment's quota for the whole fleet: capacity times its model's rate per unit. Undefined for provisioned
 * deployments (a PTU has no fixed TPM: it depends on each call's prompt and completion sizes) and for models the
 * table does not know; the worker then learns the limit from the 429s and their retry-after.
 */
export function deploymentQuota(model: string, sku: DeploymentSku, capacity: number): UnitRate | undefined {
  if (isProvisioned(sku)) return undefined;
  const rate = standardUnitRate(model);
  return rate && { requestsPerMinute: rate.requestsPerMinute * capacity, tokensPerMinute: rate.tokensPerMinute * capacity };
}

/** PTU sizes: a deployment takes `minimum`, then steps of `increment`. */
export interface ProvisionedSteps {
  minimum: number;
  increment: number;
}

interface ProvisionedSizes {
  /** GlobalProvisionedManaged and DataZoneProvisionedManaged. */
  global: ProvisionedSteps;
  /** ProvisionedManaged. */
  regional: ProvisionedSteps;
}

const GLOBAL_PTU: ProvisionedSteps = { minimum: 15, increment: 5 };
const sizes = (regionalMinimum: number, regionalIncrement: number): ProvisionedSizes => ({
  global: GLOBAL_PTU,
  regional: { minimum: regionalMinimum, increment: regionalIncrement },
});

/** The PTU onboarding page's tables ("Azure OpenAI 2025 models" and "Previous Azure OpenAI models"), by model. */
const PROVISIONED_MODELS: Readonly<Record<string, ProvisionedSizes>> = {
  "gpt-5": sizes(50, 50),
  "gpt-4.1": sizes(50, 50),
  "gpt-4.1-mini": sizes(25, 25),
  "gpt-4.1-nano": sizes(25, 25),
  "gpt-4o": sizes(50, 50),
  "gpt-4o-mini": sizes(25, 25),
  "o4-mini": sizes(25, 25),
  o3: sizes(50, 50),
  "o3-mini": sizes(25, 25),
  // The page lists a regional minimum of 25 with increments of 50 for o1: 25, 75, 125, ...
  o1: sizes(25, 50),
};

export const PROVISIONED_MODEL_NAMES = Object.keys(PROVISIONED_MODELS);

/** The PTU sizes a provisioned deployment of this model takes; undefined when Microsoft lists none for it. */
export function provisionedSteps(model: string, sku: DeploymentSku): ProvisionedSteps | undefined {
  const found = PROVISIONED_MODELS[model.toLowerCase()];
  if (!found) return undefined;
  return sku === "ProvisionedManaged" ? found.regional : found.global;
}

/** Whether `capacity` is one of the sizes the steps allow. */
export function fitsSteps(capacity: number, { minimum, increment }: ProvisionedSteps): boolean {
  return capacity >= minimum && (capacity - minimum) % increment === 0;
}

/** Embedding models answer the embeddings task only, and only they do. */
export function isEmbeddingModel(model: string): boolean {
  return /^text-embedding-/i.test(model);
}
