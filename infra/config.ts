import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkpointContainerName, DEFAULT_CONSUMER_GROUP, ENTITY_NAME, ENTITY_NAME_RULE, WORKERS_CONSUMER_GROUP } from "../common/names";
import { booleanFromText, jsonFromText, wholeNumberFromText } from "./configText";
import type { EventHubsAiWorkersArgs } from "./eventHubsAiWorkersArgs";
import { parseModelConfig, type ModelConfig } from "./modelConfig";
import { checkPrivateNetwork, CIDR_RULE, parseIpv4Range } from "./networkRules";
import { BUILT_IN_TAG_NAMES } from "./tags";
import {
  EVENT_HUBS_SKUS,
  MAX_AUTO_INFLATE_THROUGHPUT_UNITS,
  TIER_LIMITS,
  type EventHubsSku,
} from "./tierLimits";

/**
 * The stack's settings, validated once against Azure's real rules before any resource is declared.
 * `validateStackConfig` is pure (raw values in, typed config or every problem out) so tests call it
 * directly; the EventHubsAiWorkers component calls it on its arguments (stackArgsFromConfig: what `pulumi config` holds).
 */

/** Defaults; Pulumi.yaml declares the same ones (a test keeps the two in step). */
export const CONFIG_DEFAULTS = {
  namePrefix: "aiwork",
  eventHubsSku: "Standard",
  eventHubsCapacity: 1,
  autoInflate: false,
  autoInflateMaxThroughputUnits: 0,
  publicNetworkAccess: "Enabled",
  disableLocalAuth: false,
  eventHubName: "events",
  partitionCount: 4,
  retentionHours: 24,
  consumerGroups: [WORKERS_CONSUMER_GROUP],
  storageSku: "Standard_LRS",
  principalId: "",
  tags: [],
  deployWorker: false,
  workerRegistry: false,
  workerImage: "",
  workerMinReplicas: 1,
  unprocessedEventThreshold: 64,
  workerCpu: "1",
  workerMaxReplicas: 0,
  model: {},
  privateNetworking: false,
  virtualNetworkId: "",
  virtualNetworkAddressPrefixes: ["10.60.0.0/16"],
  environmentSubnetPrefix: "10.60.0.0/23",
  privateEndpointSubnetPrefix: "10.60.2.0/24",
  workerRegistrySku: "Basic",
  diagnostics: true,
  diagnosticsWorkspaceId: "",
  zoneRedundant: false,
  namespaceLock: false,
  capture: false,
  geoDrPartnerNamespaceId: "",
} as const;

export const PUBLIC_NETWORK_ACCESS = ["Enabled", "Disabled", "SecuredByPerimeter"] as const;
/** General-purpose v2 redundancy options; Premium_LRS is for page blobs, not checkpoints. */
export const STORAGE_SKUS = [
  "Standard_LRS",
  "Standard_ZRS",
  "Standard_GRS",
  "Standard_RAGRS",
  "Standard_GZRS",
  "Standard_RAGZRS",
] as const;

/** Azure Container Registry tiers; only Premium takes private endpoints. */
export const REGISTRY_SKUS = ["Basic", "Standard", "Premium"] as const;

/** KEDA needs a positive lag target; beyond this a replica would sit on more than a partition holds at 1000 events/s for minutes. */
export const MAX_UNPROCESSED_EVENT_THRESHOLD = 1_000_000;
/** Container Apps Consumption profile: 0.25-4 vCPU in steps of 0.25, with 2 GiB of memory per vCPU. */
export const WORKER_CPU_STEP = 0.25;
export const MAX_WORKER_CPU = 4;

/** Azure's limit per resource; the program's own tags count against it. */
const MAX_TAGS = 50;

/** Where a raw key lives in `pulumi config` when it is not in the project's namespace. */
const KEY_LABELS: Readonly<Record<string, string>> = { location: "azure-native:location" };

const wholeNumber = (allowed: string, defaultValue: number) =>
  z.preprocess(
    wholeNumberFromText,
    z.number({ error: `must be a whole number: ${allowed}` }).int(`must be a whole number: ${allowed}`).default(defaultValue),
  );
const flag = (defaultValue: boolean) =>
  z.preprocess(booleanFromText, z.boolean({ error: "must be true or false" }).default(defaultValue));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` }).default(defaultValue);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An Azure resource id of one type, e.g. Microsoft.Network/virtualNetworks; empty means "none". */
const resourceId = (providerType: string, example: string, defaultValue: string) => {
  const pattern = new RegExp(`^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${providerType.replace(".", "\\.")}/[^/]+$`, "i");
  const rule = `must be the resource id of a ${providerType} resource, e.g. ${example}, or empty`;
  return z.string({ error: rule }).trim().refine((id) => id === "" || pattern.test(id), { error: rule }).default(defaultValue);
};
const ipv4Range = (defaultValue: string) =>
  z
    .string({ error: `must be ${CIDR_RULE}` })
    .trim()
    .refine((text) => parseIpv4Range(text) !== undefined, { error: `must be ${CIDR_RULE}` })
    .default(defaultValue);
const TAG_NAME_FORBIDDEN = /[<>%&\\?/]/;

/*
 * An image in the stack's own registry: repository path (Docker's grammar: lowercase components joined by
 * '/', separators '.', '_', '__' or '-') plus a tag or a sha256 digest. No registry host: the stack adds its
 * registry's login server, the one registry its managed identity may pull from.
 */
const IMAGE_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
  `^${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@sha256:[a-f0-9]{64})$`,
);
const IMAGE_RULE = "<repository>:<tag> or <repository>@sha256:<digest> in the stack's registry, e.g. ai-worker:1.0.0";
const hasRegistryHost = (image: string) => {
  const first = image.split("/")[0] ?? "";
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
};

const consumerGroupName = z
  .string({ error: `must be a consumer group name: $Default or ${ENTITY_NAME_RULE}` })
  .transform((name) => (name.toLowerCase() === DEFAULT_CONSUMER_GROUP.toLowerCase() ? DEFAULT_CONSUMER_GROUP : name))
  .refine((name) => name === DEFAULT_CONSUMER_GROUP || ENTITY_NAME.test(name), {
    error: `must be $Default or ${ENTITY_NAME_RULE}`,
  });

const tag = z
  .string({ error: "must be a tag written as name=value" })
  .regex(/^[^=]+=/, "must be a tag written as name=value")
  .transform((text) => {
    const at = text.indexOf("=");
    return { name: text.slice(0, at).trim(), value: text.slice(at + 1) };
  })
  .refine(({ name }) => name.length >= 1 && name.length <= 128 && !TAG_NAME_FORBIDDEN.test(name), {
    error: "tag names must be 1-128 characters without < > % & \\ ? /",
  })
  .refine(({ value }) => value.length <= 256, { error: "tag values must be at most 256 characters" })
  .refine(({ name }) => !(BUILT_IN_TAG_NAMES as readonly string[]).includes(name.toLowerCase()), {
    error: `${BUILT_IN_TAG_NAMES.join(", ")} are set by the program`,
  });

const FIELDS = {
  location: z
    .string({ error: "is not set: run `pulumi config set azure-native:location <region>`, e.g. westeurope" })
    .transform((region) => region.replace(/\s+/g, "").toLowerCase())
    .refine((region) => /^[a-z0-9]+$/.test(region), { error: "must be an Azure region name such as westeurope" }),
  namePrefix: z
    .string({ error: "must be text" })
    .regex(
      /^[a-z][a-z0-9]{1,9}$/,
      "must be 2-10 lowercase letters or digits starting with a letter (it starts the storage account name, which allows nothing else)",
    )
    .default(CONFIG_DEFAULTS.namePrefix),
  eventHubsSku: oneOf(EVENT_HUBS_SKUS, CONFIG_DEFAULTS.eventHubsSku),
  eventHubsCapacity: wholeNumber("1-40 throughput units (Basic, Standard) or 1, 2, 4, 6, 8, 10, 12, 16 processing units (Premium)", CONFIG_DEFAULTS.eventHubsCapacity),
  autoInflate: flag(CONFIG_DEFAULTS.autoInflate),
  autoInflateMaxThroughputUnits: wholeNumber(
    `0 (auto-inflate off) or 1-${MAX_AUTO_INFLATE_THROUGHPUT_UNITS}`,
    CONFIG_DEFAULTS.autoInflateMaxThroughputUnits,
  ),
  publicNetworkAccess: oneOf(PUBLIC_NETWORK_ACCESS, CONFIG_DEFAULTS.publicNetworkAccess),
  disableLocalAuth: flag(CONFIG_DEFAULTS.disableLocalAuth),
  eventHubName: z
    .string({ error: "must be text" })
    .regex(ENTITY_NAME, `must be ${ENTITY_NAME_RULE}`)
    .default(CONFIG_DEFAULTS.eventHubName),
  partitionCount: wholeNumber("1-32 (Basic, Standard) or 1-100 (Premium)", CONFIG_DEFAULTS.partitionCount),
  retentionHours: wholeNumber("1-24 (Basic), 1-168 (Standard) or 1-2160 (Premium)", CONFIG_DEFAULTS.retentionHours),
  consumerGroups: z.preprocess(
    jsonFromText,
    z
      .array(consumerGroupName, { error: 'must be a list of consumer group names, e.g. ["ai-workers"]' })
      .min(1, "must name at least one consumer group: the first is the one the workers use")
      .default([...CONFIG_DEFAULTS.consumerGroups]),
  ),
  storageSku: oneOf(STORAGE_SKUS, CONFIG_DEFAULTS.storageSku),
  principalId: z
    .string({ error: "must be text" })
    .trim()
    .refine((id) => id === "" || GUID.test(id), { error: "must be an object (principal) id GUID, or empty" })
    .default(CONFIG_DEFAULTS.principalId),
  tags: z.preprocess(
    jsonFromText,
    z
      .array(tag, { error: 'must be a list of name=value strings, e.g. ["owner=team-ai"]' })
      .max(MAX_TAGS - BUILT_IN_TAG_NAMES.length, `allows at most ${MAX_TAGS - BUILT_IN_TAG_NAMES.length} tags (Azure allows ${MAX_TAGS}, the program sets ${BUILT_IN_TAG_NAMES.length})`)
      .default([]),
  ),
  deployWorker: flag(CONFIG_DEFAULTS.deployWorker),
  workerRegistry: flag(CONFIG_DEFAULTS.workerRegistry),
  workerImage: z
    .string({ error: `must be text: ${IMAGE_RULE}` })
    .trim()
    .refine((image) => image === "" || !hasRegistryHost(image), {
      error: `must not name a registry: give ${IMAGE_RULE}; the stack pulls from its own registry and adds its login server`,
    })
    .refine((image) => image === "" || hasRegistryHost(image) || IMAGE_REFERENCE.test(image), { error: `must be ${IMAGE_RULE}` })
    .refine((image) => IMAGE_REFERENCE.exec(image)?.groups?.tag !== "latest", {
      error: "must not use the tag latest: use one that changes with every build (deploy.yml uses the commit), so each deploy makes a new revision",
    })
    .default(CONFIG_DEFAULTS.workerImage),
  workerMinReplicas: wholeNumber("0 up to partitionCount", CONFIG_DEFAULTS.workerMinReplicas),
  unprocessedEventThreshold: wholeNumber(`1-${MAX_UNPROCESSED_EVENT_THRESHOLD} events of lag per replica`, CONFIG_DEFAULTS.unprocessedEventThreshold)
    .refine((n) => n >= 1 && n <= MAX_UNPROCESSED_EVENT_THRESHOLD, {
      error: `must be 1-${MAX_UNPROCESSED_EVENT_THRESHOLD} events of lag per replica (KEDA's default is 64)`,
    }),
  workerCpu: z.preprocess(
    (value) => (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `must be vCPUs from ${WORKER_CPU_STEP} to ${MAX_WORKER_CPU} in steps of ${WORKER_CPU_STEP}, e.g. "0.5"` })
      .refine((cpu) => cpu >= WORKER_CPU_STEP && cpu <= MAX_WORKER_CPU && Number.isInteger(cpu / WORKER_CPU_STEP), {
        error: `must be vCPUs from ${WORKER_CPU_STEP} to ${MAX_WORKER_CPU} in steps of ${WORKER_CPU_STEP} (Container Apps Consumption sizes), e.g. "0.5"`,
      })
      .default(Number(CONFIG_DEFAULTS.workerCpu)),
  ),
  workerMaxReplicas: wholeNumber("0 (as many as the partitions and the model's quota can keep busy) or workerMinReplicas up to partitionCount", CONFIG_DEFAULTS.workerMaxReplicas),
  // Its own module: a nested object whose problems are reported at their paths, e.g. model.deployments[0].sku.
  model: z.unknown().transform((raw, ctx) => {
    const { model, problems } = parseModelConfig(raw);
    for (const { path, value, message } of problems) ctx.addIssue({ code: "custom", path, message, input: value });
    return model;
  }),
  privateNetworking: flag(CONFIG_DEFAULTS.privateNetworking),
  virtualNetworkId: resourceId(
    "Microsoft.Network/virtualNetworks",
    "/subscriptions/<id>/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub",
    CONFIG_DEFAULTS.virtualNetworkId,
  ),
  virtualNetworkAddressPrefixes: z.preprocess(
    jsonFromText,
    z
      .array(z.string({ error: `must be ${CIDR_RULE}` }).trim().refine((text) => parseIpv4Range(text) !== undefined, { error: `must be ${CIDR_RULE}` }), {
        error: 'must be a list of IPv4 ranges, e.g. ["10.60.0.0/16"]',
      })
      .min(1, "must name at least one address range")
      .default([...CONFIG_DEFAULTS.virtualNetworkAddressPrefixes]),
  ),
  environmentSubnetPrefix: ipv4Range(CONFIG_DEFAULTS.environmentSubnetPrefix),
  privateEndpointSubnetPrefix: ipv4Range(CONFIG_DEFAULTS.privateEndpointSubnetPrefix),
  workerRegistrySku: oneOf(REGISTRY_SKUS, CONFIG_DEFAULTS.workerRegistrySku),
  diagnostics: flag(CONFIG_DEFAULTS.diagnostics),
  diagnosticsWorkspaceId: resourceId(
    "Microsoft.OperationalInsights/workspaces",
    "/subscriptions/<id>/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/log-central",
    CONFIG_DEFAULTS.diagnosticsWorkspaceId,
  ),
  zoneRedundant: flag(CONFIG_DEFAULTS.zoneRedundant),
  namespaceLock: flag(CONFIG_DEFAULTS.namespaceLock),
  capture: flag(CONFIG_DEFAULTS.capture),
  geoDrPartnerNamespaceId: resourceId(
    "Microsoft.EventHub/namespaces",
    "/subscriptions/<id>/resourceGroups/rg-dr/providers/Microsoft.EventHub/namespaces/evhns-aiwork-dr",
    CONFIG_DEFAULTS.geoDrPartnerNamespaceId,
  ),
} satisfies Record<string, z.ZodType>;

type FieldValues = { [K in keyof typeof FIELDS]: z.output<(typeof FIELDS)[K]> };

export type ConfigKey = keyof typeof FIELDS;
export const CONFIG_KEYS = Object.keys(FIELDS) as ConfigKey[];

export interface StackConfig {
  /** Azure region (from `azure-native:location`), normalised to its short name. */
  location: string;
  namePrefix: string;
  eventHubsSku: EventHubsSku;
  eventHubsCapacity: number;
  autoInflate: boolean;
  /** Only meaningful when `autoInflate` is on; 0 otherwise. */
  autoInflateMaxThroughputUnits: number;
  publicNetworkAccess: (typeof PUBLIC_NETWORK_ACCESS)[number];
  /** Entra ID mode: no SAS keys anywhere, role assignments instead. */
  disableLocalAuth: boolean;
  eventHubName: string;
  partitionCount: number;
  retentionHours: number;
  /** The first one is the group the workers use. */
  consumerGroups: string[];
  storageSku: (typeof STORAGE_SKUS)[number];
  /** Object id of the workers' identity; role assignments are made for it when set. */
  principalId: string | undefined;
  tags: Record<string, string>;
  /** Host the worker on Container Apps (registry, identity, roles, logs, environment, app). */
  deployWorker: boolean;
  /** Create the worker's registry even while deployWorker is off, so a first image can be pushed. */
  workerRegistry: boolean;
  /** `<repository>:<tag>` in the stack's registry; required with deployWorker. */
  workerImage: string | undefined;
  workerMinReplicas: number;
  /** KEDA's target lag per replica. */
  unprocessedEventThreshold: number;
  /** vCPUs per replica; memory is 2 GiB per vCPU. */
  workerCpu: number;
  /** KEDA's ceiling; 0: the partition count, lowered to what the model's quota can keep busy. */
  workerMaxReplicas: number;
  /** The remote model the hosted worker calls; undefined: it runs text-insights. */
  model: ModelConfig | undefined;
  /** A virtual network with private endpoints (and DNS) for everything the stack creates; public access off. */
  privateNetworking: boolean;
  /** An existing network to put the subnets in; undefined: the stack creates one with virtualNetworkAddressPrefixes. */
  virtualNetworkId: string | undefined;
  virtualNetworkAddressPrefixes: string[];
  /** The Container Apps environment's infrastructure subnet. */
  environmentSubnetPrefix: string;
  /** The subnet the private endpoints take their addresses from. */
  privateEndpointSubnetPrefix: string;
  workerRegistrySku: (typeof REGISTRY_SKUS)[number];
  /** Diagnostic settings (allLogs, AllMetrics) to a Log Analytics workspace, where there is one. */
  diagnostics: boolean;
  /** A workspace the stack does not own (a central one); undefined: the hosted worker's, if any. */
  diagnosticsWorkspaceId: string | undefined;
  /** Event Hubs zone redundancy; fixed when the namespace is created. */
  zoneRedundant: boolean;
  /** A CanNotDelete lock on the namespace. */
  namespaceLock: boolean;
  /** Capture the hub to the storage account as Avro, for audit and replay. */
  capture: boolean;
  /** Pair the namespace with this one (another region) behind a geo-DR alias; undefined: no pairing. */
  geoDrPartnerNamespaceId: string | undefined;
}

export interface ConfigProblem {
  /** The key as `pulumi config set --path` takes it: `partitionCount`, `consumerGroups[1]`, `model.deployments[0].sku`. */
  key: string;
  value: unknown;
  message: string;
}

/** Every problem of a stack's config, so one run shows all of them. */
export class StackConfigError extends pulumi.RunError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      [
        `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); fix with \`pulumi config set <key> <value>\`:`,
        ...problems.map((p) => `  - ${describe(p)}`),
      ].join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/** `[1]` for a list item, `.deployments[0].sku` below an object. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`)).join("");
}

function describe({ key, value, message }: ConfigProblem): string {
  return value === undefined ? `${key}: ${message}` : `${key} = ${JSON.stringify(value)}: ${message}`;
}

/** Validates raw config values (text as Pulumi stores it, or native values) and returns the typed config. */
export function validateStackConfig(raw: Readonly<Record<string, unknown>>): StackConfig {
  const problems: ConfigProblem[] = [];
  const values: Partial<FieldValues> = {};
  const report = (key: string, value: unknown, message: string) => problems.push({ key, value, message });

  for (const key of Object.keys(raw)) {
    if (!(key in FIELDS)) report(key, raw[key], `is not a setting of this stack; known settings: ${CONFIG_KEYS.join(", ")}`);
  }
  for (const key of CONFIG_KEYS) {
    const parsed = FIELDS[key].safeParse(raw[key], { reportInput: true });
    if (parsed.success) {
      (values as Record<ConfigKey, unknown>)[key] = parsed.data;
      continue;
    }
    for (const issue of parsed.error.issues) {
      const label = `${KEY_LABELS[key] ?? key}${pathText(issue.path)}`;
      const item = issue.path[0];
      if (issue.path.length === 0) report(label, issue.input ?? raw[key], issue.message);
      // A list item is shown as written, not as the schema transformed it; a nested value is the one the issue names.
      else if (typeof item === "number") {
        const list = jsonFromText(raw[key]);
        report(label, Array.isArray(list) ? list[item] : issue.input, issue.message);
      } else report(label, issue.input, issue.message);
    }
  }
  checkAcrossSettings(values, report);

  if (problems.length > 0) throw new StackConfigError(problems);
  const v = values as FieldValues;
  return {
    ...v,
    principalId: v.principalId === "" ? undefined : v.principalId,
    workerImage: v.workerImage === "" ? undefined : v.workerImage,
    virtualNetworkId: v.virtualNetworkId === "" ? undefined : v.virtualNetworkId,
    diagnosticsWorkspaceId: v.diagnosticsWorkspaceId === "" ? undefined : v.diagnosticsWorkspaceId,
    geoDrPartnerNamespaceId: v.geoDrPartnerNamespaceId === "" ? undefined : v.geoDrPartnerNamespaceId,
    tags: Object.fromEntries(v.tags.map(({ name, value }) => [name, value])),
  };
}

/** Rules that tie settings together: tier limits, auto-inflate, Entra ID mode, container names. */
function checkAcrossSettings(
  v: Partial<FieldValues>,
  report: (key: string, value: unknown, message: string) => void,
): void {
  const sku = v.eventHubsSku;
  const limits = sku === undefined ? undefined : TIER_LIMITS[sku];

  if (limits && v.eventHubsCapacity !== undefined && !limits.capacities.includes(v.eventHubsCapacity)) {
    report("eventHubsCapacity", v.eventHubsCapacity, `${sku} namespaces take ${limits.capacityDescription}`);
  }
  if (limits && v.partitionCount !== undefined && (v.partitionCount < 1 || v.partitionCount > limits.maxPartitions)) {
    report("partitionCount", v.partitionCount, `${sku} event hubs take 1-${limits.maxPartitions} partitions${sku === "Premium" ? "" : " (Premium up to 100)"}`);
  }
  if (limits && v.retentionHours !== undefined && (v.retentionHours < 1 || v.retentionHours > limits.maxRetentionHours)) {
    report("retentionHours", v.retentionHours, `${sku} event hubs keep events for 1-${limits.maxRetentionHours} hours (the maximum is 24 on Basic, 168 on Standard, 2160 on Premium)`);
  }

  if (v.autoInflate === true && limits && !limits.autoInflate) {
    report("autoInflate", true, `auto-inflate is a Standard-tier feature; ${sku} namespaces cannot auto-inflate`);
  }
  const max = v.autoInflateMaxThroughputUnits;
  if (max !== undefined && v.autoInflate === true && sku === "Standard") {
    const floor = v.eventHubsCapacity ?? 1;
    if (max < floor || max > MAX_AUTO_INFLATE_THROUGHPUT_UNITS) {
      report("autoInflateMaxThroughputUnits", max, `with autoInflate on, must be ${floor}-${MAX_AUTO_INFLATE_THROUGHPUT_UNITS} (at least eventHubsCapacity)`);
    }
  } else if (max !== undefined && max !== 0 && v.autoInflate === false) {
    report("autoInflateMaxThroughputUnits", max, "only applies with autoInflate true; set it to 0 or turn autoInflate on");
  } else if (max !== undefined && (max < 0 || max > MAX_AUTO_INFLATE_THROUGHPUT_UNITS)) {
    report("autoInflateMaxThroughputUnits", max, `must be 0-${MAX_AUTO_INFLATE_THROUGHPUT_UNITS}`);
  }

  const groups = v.consumerGroups;
  if (groups && limits) {
    const custom = groups.filter((g) => g !== DEFAULT_CONSUMER_GROUP);
    if (sku === "Basic" && custom.length > 0) {
      report("consumerGroups", groups, 'Basic event hubs have only the $Default consumer group: set consumerGroups to ["$Default"] or use eventHubsSku Standard');
    } else if (new Set([DEFAULT_CONSUMER_GROUP, ...custom]).size > limits.maxConsumerGroups) {
      report("consumerGroups", groups, `${sku} event hubs allow ${limits.maxConsumerGroups} consumer groups including $Default`);
    }
  }
  if (groups) {
    const seenNames = new Map<string, string>();
    const seenContainers = new Map<string, string>();
    for (const group of groups) {
      const container = checkpointContainerName(group);
      const sameName = seenNames.get(group.toLowerCase());
      const sameContainer = seenContainers.get(container);
      if (sameName !== undefined) {
        report("consumerGroups", groups, `lists ${group} twice (names are case-insensitive)`);
      } else if (sameContainer !== undefined) {
        report("consumerGroups", groups, `${sameContainer} and ${group} would share the checkpoint container ${container}; rename one`);
      }
      seenNames.set(group.toLowerCase(), group);
      seenContainers.set(container, group);
    }
  }

  if (v.disableLocalAuth === true && v.principalId === "" && v.deployWorker !== true) {
    report("principalId", "", "is required when disableLocalAuth is true (unless deployWorker is true, whose managed identity gets the roles): the object id of the workers' managed identity or service principal, which gets the data roles instead of SAS keys");
  }
  checkWorkerHosting(v, report);
  checkModel(v, report);
  checkPrivateNetworking(v, report);
  checkResilience(v, report);
  if (v.tags) {
    const names = v.tags.map((t) => t.name.toLowerCase());
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) report("tags", v.tags.map((t) => `${t.name}=${t.value}`), `sets the tag ${duplicate} twice (tag names are case-insensitive)`);
  }
}

/** Rules of the Container Apps hosting: an image to run, replicas within the partitions, a reachable hub. */
function checkWorkerHosting(
  v: Partial<FieldValues>,
  report: (key: string, value: unknown, message: string) => void,
): void {
  if (v.deployWorker === true && v.workerImage === "") {
    report("workerImage", "", `is required when deployWorker is true: ${IMAGE_RULE} (deploy.yml builds, pushes and sets ai-worker:<commit>)`);
  }
  const partitions = v.partitionCount;
  const min = v.workerMinReplicas;
  // An invalid partitionCount is reported on its own; comparing with it would only add noise.
  if (min !== undefined && (min < 0 || (partitions !== undefined && partitions >= 1 && min > partitions))) {
    report(
      "workerMinReplicas",
      min,
      `must be 0-${partitions ?? "partitionCount"}: 0 lets the app scale to zero when there is no lag; more replicas than partitionCount (${partitions ?? "?"}) would own no partition`,
    );
  }
  const max = v.workerMaxReplicas;
  const floor = Math.max(1, min ?? 1);
  if (max !== undefined && max !== 0 && (max < floor || (partitions !== undefined && partitions >= 1 && max > partitions))) {
    report(
      "workerMaxReplicas",
      max,
      `must be 0 (as many as the partitions and the model's quota keep busy) or ${floor}-${partitions ?? "partitionCount"}: at least workerMinReplicas (and 1), and no more than partitionCount, since a replica beyond it would own no partition`,
    );
  }
  if (v.deployWorker === true && v.privateNetworking === false && v.publicNetworkAccess !== undefined && v.publicNetworkAccess !== "Enabled") {
    report(
      "publicNetworkAccess",
      v.publicNetworkAccess,
      "must be Enabled when deployWorker is true and privateNetworking is false: the Container Apps environment then has no virtual network, so the workers and KEDA reach Event Hubs and storage over their public endpoints (set privateNetworking to true to reach them over private endpoints instead)",
    );
  }
}

/** Rules that tie the model to the rest: who may call the account the stack creates, and how it is reached. */
function checkModel(
  v: Partial<FieldValues>,
  report: (key: string, value: unknown, message: string) => void,
): void {
  if (v.model === undefined || v.model.deployments.length === 0) return;
  if (v.deployWorker === false && v.principalId === "") {
    report(
      "principalId",
      "",
      "is required when model lists deployments and deployWorker is false: the object id of the identity your workers run as, which gets Cognitive Services OpenAI User on the account (its local auth is off, so nothing else can call it)",
    );
  }
  // With deployWorker, publicNetworkAccess must be Enabled anyway (reported above).
  if (v.deployWorker === false && v.publicNetworkAccess === "SecuredByPerimeter") {
    report(
      "publicNetworkAccess",
      "SecuredByPerimeter",
      "must be Enabled or Disabled when model lists deployments: Azure OpenAI accounts (API 2025-06-01) take only those two",
    );
  }
}

/** Rules of privateNetworking: public access off, a registry that takes private endpoints, and a network Azure accepts. */
function checkPrivateNetworking(
  v: Partial<FieldValues>,
  report: (key: string, value: unknown, message: string) => void,
): void {
  if (v.privateNetworking !== true) {
    if (v.virtualNetworkId !== undefined && v.virtualNetworkId !== "") {
      report("virtualNetworkId", v.virtualNetworkId, "only applies with privateNetworking true; set privateNetworking to true or leave virtualNetworkId empty");
    }
    return;
  }
  if (v.publicNetworkAccess !== undefined && v.publicNetworkAccess !== "Disabled") {
    report(
      "publicNetworkAccess",
      v.publicNetworkAccess,
      "must be Disabled when privateNetworking is true: the namespace, storage, registry and Azure OpenAI account are then reached through their private endpoints only",
    );
  }
  const hasRegistry = v.deployWorker === true || v.workerRegistry === true;
  if (hasRegistry && v.workerRegistrySku !== undefined && v.workerRegistrySku !== "Premium") {
    report(
      "workerRegistrySku",
      v.workerRegistrySku,
      "must be Premium when privateNetworking is true and the stack has a registry (deployWorker or workerRegistry): Azure Container Registry takes private endpoints on Premium only",
    );
  }
  if (
    v.environmentSubnetPrefix === undefined ||
    v.privateEndpointSubnetPrefix === undefined ||
    v.virtualNetworkAddressPrefixes === undefined ||
    v.virtualNetworkId === undefined
  ) {
    return;
  }
  checkPrivateNetwork(
    {
      virtualNetworkId: v.virtualNetworkId,
      addressPrefixes: v.virtualNetworkAddressPrefixes,
      environmentSubnetPrefix: v.environmentSubnetPrefix,
      privateEndpointSubnetPrefix: v.privateEndpointSubnetPrefix,
      hostsEnvironment: v.deployWorker === true,
    },
    report,
  );
}

/** Zone redundancy, capture and geo-DR against the tier's features; capture against the network. */
function checkResilience(
  v: Partial<FieldValues>,
  report: (key: string, value: unknown, message: string) => void,
): void {
  const sku = v.eventHubsSku;
  const limits = sku === undefined ? undefined : TIER_LIMITS[sku];
  if (limits && v.zoneRedundant === true && !limits.zoneRedundancy) {
    report("zoneRedundant", true, `${sku} namespaces cannot be zone redundant: use eventHubsSku Standard or Premium (in a region with availability zones)`);
  }
  if (limits && v.capture === true && !limits.capture) {
    report("capture", true, `capture is a Standard and Premium feature; ${sku} namespaces cannot capture`);
  }
  if (v.capture === true && v.privateNetworking === true) {
    report(
      "capture",
      true,
      "cannot be combined with privateNetworking: Event Hubs capture writes to storage as a trusted Azure service, which a storage account with public network access Disabled does not let in",
    );
  }
  if (limits && v.geoDrPartnerNamespaceId !== undefined && v.geoDrPartnerNamespaceId !== "" && !limits.geoDisasterRecovery) {
    report("geoDrPartnerNamespaceId", v.geoDrPartnerNamespaceId, `geo-disaster recovery is a Standard and Premium feature; ${sku} namespaces cannot be paired`);
  }
}

/**
 * This project's settings from the stack config, as the component's arguments. Pulumi hands every value over as
 * text (lists and objects as JSON); validateStackConfig reads text and native values alike (configText.ts), so
 * they pass through unconverted and a value of the wrong kind is reported with the others, not thrown here.
 * The region is the component's own fallback, azure-native:location.
 */
export function stackArgsFromConfig(): EventHubsAiWorkersArgs {
  const projectPrefix = `${pulumi.getProject()}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(projectPrefix)) raw[key.slice(projectPrefix.length)] = value;
  }
  return raw as EventHubsAiWorkersArgs;
}
