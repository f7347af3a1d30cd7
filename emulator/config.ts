// Emulator configuration: one validated object built once at the edge.
// Accepts two input shapes:
//   - ours: { namespace?, hubs?: [{ name, partitionCount?, consumerGroups? }], keys?, checkSignatures?, ... }
//   - Microsoft's emulator Config.json: { UserConfig: { NamespaceConfig: [{ Name, Entities: [{ Name,
//     PartitionCount, ConsumerGroups: [{ Name }] }] }], LoggingConfig? } }
// Every problem is collected and reported at once, each naming the path, the bad value and what is allowed.
import { z } from "zod";
import { DEFAULT_CONSUMER_GROUP, ENTITY_NAME, ENTITY_NAME_RULE, WORKERS_CONSUMER_GROUP } from "../common/names";

export interface HubConfig {
  name: string;
  partitionCount: number;
  /** User consumer groups; "$Default" is always implied and never listed here. */
  consumerGroups: string[];
}
export interface SasKey {
  name: string;
  key: string;
}
export interface EmulatorConfig {
  namespace: string;
  hubs: HubConfig[];
  keys: SasKey[];
  checkSignatures: boolean;
  retentionHours: number;
  /** Ceiling for stored event bytes across all partitions of the namespace. */
  maxMemoryBytes: number;
  maxMessageBytes: number;
  dataDir?: string;
}

export interface HubConfigInput {
  name: string;
  partitionCount?: number;
  consumerGroups?: string[];
}
export type EmulatorConfigInput = Partial<Omit<EmulatorConfig, "hubs">> & { hubs?: HubConfigInput[] };

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid emulator configuration (${source}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const LIMITS = {
  maxHubs: 10,
  minPartitions: 1,
  maxPartitions: 32,
  maxConsumerGroups: 20,
  maxRetentionHours: 90 * 24,
  maxMessageBytes: 1_048_576,
} as const;

export const DEFAULT_PARTITION_COUNT = 4;
const DEFAULTS = {
  namespace: "emulatorns1",
  hubs: [{ name: "events", partitionCount: DEFAULT_PARTITION_COUNT, consumerGroups: [WORKERS_CONSUMER_GROUP] }],
  keys: [{ name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" }],
  checkSignatures: true,
  retentionHours: 24,
  maxMemoryBytes: 512 * 1024 * 1024,
  maxMessageBytes: LIMITS.maxMessageBytes,
} satisfies EmulatorConfig;

// Azure's rule for event hub and consumer group names; it also keeps them safe as directory names.
const entityName = z
  .string({ error: `must be a string of ${ENTITY_NAME_RULE}` })
  .regex(ENTITY_NAME, { error: `must be ${ENTITY_NAME_RULE}` });
// "$Default" is the one consumer-group name outside the entity rule; it is accepted and dropped (always implied).
const consumerGroupName = z.union([z.string().regex(/^\$default$/i), entityName], {
  error: `must be ${ENTITY_NAME_RULE}`,
});

const NAMESPACE_RULE = "6-50 letters, digits or '-', starting with a letter and ending with a letter or digit";
const namespaceName = z
  .string({ error: `must be a string of ${NAMESPACE_RULE}` })
  .regex(/^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/, { error: `must be ${NAMESPACE_RULE}` });

const PARTITION_RULE = `a whole number from ${LIMITS.minPartitions} to ${LIMITS.maxPartitions}`;
const partitionCount = z
  .int({ error: `must be ${PARTITION_RULE}` })
  .min(LIMITS.minPartitions, { error: `must be ${PARTITION_RULE}` })
  .max(LIMITS.maxPartitions, { error: `must be ${PARTITION_RULE}` });

const sasKey = strictShape(
  {
    name: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(256, { error: "must be at most 256 characters" }),
    key: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(256, { error: "must be at most 256 characters" }),
  },
  "an object { name, key }",
);

function consumerGroupList<T extends z.ZodType>(item: T) {
  return z
    .array(item, { error: "must be an array" })
    .max(LIMITS.maxConsumerGroups, { error: `must list at most ${LIMITS.maxConsumerGroups} consumer groups ($Default is implied)` });
}

function hubList<T extends z.ZodType>(item: T) {
  return z
    .array(item, { error: "must be an array" })
    .min(1, { error: `must define 1 to ${LIMITS.maxHubs} event hubs` })
    .max(LIMITS.maxHubs, { error: `must define 1 to ${LIMITS.maxHubs} event hubs` });
}

/** A strict object whose unknown keys are reported with the list of allowed ones. */
function strictShape<T extends z.core.$ZodLooseShape>(shape: T, description: string, hint = "") {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}; allowed: ${allowed}${hint}`
        : `must be ${description}`,
  });
}

const ourHub = strictShape(
  {
    name: entityName,
    partitionCount: partitionCount.optional(),
    consumerGroups: consumerGroupList(consumerGroupName).optional(),
  },
  "an object { name, partitionCount?, consumerGroups? }",
);

const ourShape = strictShape(
  {
    namespace: namespaceName.optional(),
    hubs: hubList(ourHub).optional(),
    keys: z.array(sasKey, { error: "must be an array of { name, key }" }).min(1, { error: "must list at least one key" }).optional(),
    checkSignatures: z.boolean({ error: "must be true or false" }).optional(),
    retentionHours: z
      .number({ error: `must be a number of hours greater than 0 and at most ${LIMITS.maxRetentionHours}` })
      .positive({ error: `must be greater than 0 and at most ${LIMITS.maxRetentionHours} hours` })
      .max(LIMITS.maxRetentionHours, { error: `must be greater than 0 and at most ${LIMITS.maxRetentionHours} hours` })
      .optional(),
    maxMemoryBytes: z
      .int({ error: "must be a whole number of bytes greater than 0" })
      .positive({ error: "must be a whole number of bytes greater than 0" })
      .optional(),
    maxMessageBytes: z
      .int({ error: `must be a whole number of bytes from 1 to ${LIMITS.maxMessageBytes}` })
      .min(1, { error: `must be a whole number of bytes from 1 to ${LIMITS.maxMessageBytes}` })
      .max(LIMITS.maxMessageBytes, { error: `must be a whole number of bytes from 1 to ${LIMITS.maxMessageBytes}` })
      .optional(),
    dataDir: z.string({ error: "must be a directory path" }).min(1, { error: "must be a non-empty directory path" }).optional(),
  },
  "a JSON object",
  " (or Microsoft's { UserConfig: ... } shape)",
);

// Microsoft's schema types PartitionCount as a string; user configs in the wild also use numbers.
const microsoftPartitionCount = z.preprocess(
  (value) => (typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
  z.int({ error: `must be ${PARTITION_RULE} (number or numeric string)` }).min(1, { error: `must be ${PARTITION_RULE}` }).max(LIMITS.maxPartitions, { error: `must be ${PARTITION_RULE}` }),
);

const microsoftEntity = z.looseObject(
  {
    Name: entityName,
    PartitionCount: microsoftPartitionCount,
    ConsumerGroups: consumerGroupList(z.looseObject({ Name: consumerGroupName }, { error: "must be an object { Name }" })).optional(),
  },
  { error: "must be an object { Name, PartitionCount, ConsumerGroups }" },
);

const microsoftShape = z.looseObject({
  UserConfig: z.looseObject(
    {
      NamespaceConfig: z
        .array(
          z.looseObject(
            {
              Type: z.literal("EventHub", { error: "must be \"EventHub\"" }).optional(),
              Name: namespaceName,
              Entities: hubList(microsoftEntity),
            },
            { error: "must be an object { Type, Name, Entities }" },
          ),
          { error: "must be an array with exactly one namespace" },
        )
        .length(1, { error: "must contain exactly one namespace (the emulator serves one)" }),
      LoggingConfig: z
        .looseObject({
          Type: z.enum(["File", "Console", "File,Console", "Console,File"], {
            error: "must be one of \"File\", \"Console\", \"File,Console\", \"Console,File\"",
          }).optional(),
        })
        .optional(),
    },
    { error: "must be an object { NamespaceConfig, LoggingConfig? }" },
  ),
});

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
const listAt = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * Names that repeat (case-insensitively) within a list, one problem per repeat. Runs on the raw input,
 * independently of the schema, so duplicates are reported together with every other problem.
 */
function duplicateNames(names: unknown[], what: string, pathOf: (index: number) => string): string[] {
  const firstIndex = new Map<string, number>();
  const problems: string[] = [];
  names.forEach((name, index) => {
    if (typeof name !== "string") return;
    const first = firstIndex.get(name.toLowerCase());
    if (first === undefined) firstIndex.set(name.toLowerCase(), index);
    else problems.push(`${pathOf(index)}: duplicate ${what} name, first defined at index ${first} (names are case-insensitive and must be unique) (got ${JSON.stringify(name)})`);
  });
  return problems;
}

function duplicatesInOurShape(input: unknown): string[] {
  const hubs = listAt(field(input, "hubs"));
  return [
    ...duplicateNames(hubs.map((h) => field(h, "name")), "event hub", (i) => `hubs[${i}].name`),
    ...hubs.flatMap((hub, h) =>
      duplicateNames(listAt(field(hub, "consumerGroups")), "consumer group", (i) => `hubs[${h}].consumerGroups[${i}]`),
    ),
  ];
}

function duplicatesInMicrosoftShape(input: unknown): string[] {
  const base = "UserConfig.NamespaceConfig[0].Entities";
  const entities = listAt(field(listAt(field(field(input, "UserConfig"), "NamespaceConfig"))[0], "Entities"));
  return [
    ...duplicateNames(entities.map((e) => field(e, "Name")), "event hub", (i) => `${base}[${i}].Name`),
    ...entities.flatMap((entity, e) =>
      duplicateNames(
        listAt(field(entity, "ConsumerGroups")).map((g) => field(g, "Name")),
        "consumer group",
        (i) => `${base}[${e}].ConsumerGroups[${i}].Name`,
      ),
    ),
  ];
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}

function formatValue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return "";
  if (!("input" in issue)) return "";
  if (issue.input === undefined) return " (missing)";
  const text = JSON.stringify(issue.input);
  return ` (got ${text !== undefined && text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

function problemsOf(error: z.ZodError | undefined): string[] {
  if (!error) return [];
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}${formatValue(issue)}`);
}

function withoutDefaultGroup(groups: string[]): string[] {
  return groups.filter((g) => g.toLowerCase() !== DEFAULT_CONSUMER_GROUP.toLowerCase());
}

function isMicrosoftShape(input: unknown): boolean {
  return typeof input === "object" && input !== null && "UserConfig" in input;
}

function fromMicrosoftShape(input: unknown, source: string): EmulatorConfigInput {
  const parsed = microsoftShape.safeParse(input, { reportInput: true });
  const problems = [...problemsOf(parsed.error), ...duplicatesInMicrosoftShape(input)];
  if (!parsed.success || problems.length > 0) throw new ConfigError(source, problems);
  const namespace = parsed.data.UserConfig.NamespaceConfig[0]!;
  return {
    namespace: namespace.Name,
    hubs: namespace.Entities.map((entity) => ({
      name: entity.Name,
      partitionCount: entity.PartitionCount,
      consumerGroups: (entity.ConsumerGroups ?? []).map((g) => g.Name),
    })),
  };
}

/**
 * Validates and completes an emulator configuration. `source` names where it came from (a file path,
 * "command line", "startLocalStack options") and prefixes the error.
 * @throws ConfigError listing every problem found.
 */
export function parseEmulatorConfig(input: unknown, source: string): EmulatorConfig {
  const ours = isMicrosoftShape(input) ? fromMicrosoftShape(input, source) : (input ?? {});
  const parsed = ourShape.safeParse(ours, { reportInput: true });
  const problems = [...problemsOf(parsed.error), ...duplicatesInOurShape(ours)];
  if (!parsed.success || problems.length > 0) throw new ConfigError(source, problems);
  const value = parsed.data;
  const config: EmulatorConfig = {
    namespace: value.namespace ?? DEFAULTS.namespace,
    hubs: (value.hubs ?? DEFAULTS.hubs).map((hub) => ({
      name: hub.name,
      partitionCount: hub.partitionCount ?? DEFAULT_PARTITION_COUNT,
      consumerGroups: withoutDefaultGroup(hub.consumerGroups ?? []),
    })),
    keys: (value.keys ?? DEFAULTS.keys).map((k) => ({ ...k })),
    checkSignatures: value.checkSignatures ?? DEFAULTS.checkSignatures,
    retentionHours: value.retentionHours ?? DEFAULTS.retentionHours,
    maxMemoryBytes: value.maxMemoryBytes ?? DEFAULTS.maxMemoryBytes,
    maxMessageBytes: value.maxMessageBytes ?? DEFAULTS.maxMessageBytes,
  };
  if (value.dataDir !== undefined) config.dataDir = value.dataDir;
  return config;
}
