// The settings that say where the worker's event hub and storage are: the part of the configuration every program
// that reaches them shares (the worker, the explorer, the dead-letter CLI), with the rules between them. Declared
// apart from the processors and sinks, so reading them loads no plugin.
import { checkpointContainerName, DEAD_LETTER_CONTAINER, WORKERS_CONSUMER_GROUP } from "../common/names";
import { checkSettings, type Problem, type RawSettings, type Values } from "./settings/declare";
import {
  boolean,
  consumerGroupName,
  containerName,
  entityName,
  eventHubConnectionString,
  hostName,
  httpUrl,
  integer,
  storageConnectionString,
} from "./settings/values";

const EVENT_HUBS = "Event Hubs:";
const STORAGE = "Checkpoint and dead-letter storage:";

export const CONNECTION_SETTINGS = {
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
} as const;

export type ConnectionSettingName = keyof typeof CONNECTION_SETTINGS & string;
type ConnectionValues = Values<typeof CONNECTION_SETTINGS>;

/** Where the event hub and the storage account are, and how to reach them. */
export interface Connection {
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
}

/** Which settings must be present together; checked on the raw values so they are reported with value errors. */
export function missingConnection(raw: RawSettings<ConnectionSettingName>): Problem[] {
  const problems: Problem[] = [];
  const has = (name: ConnectionSettingName) => raw[name] !== undefined;
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

/** Rules between the parsed values. */
export function connectionConflicts(s: ConnectionValues): Problem[] {
  const entityPath = s.EVENTHUB_CONNECTION_STRING?.entityPath;
  if (s.EVENTHUB_NAME && entityPath && s.EVENTHUB_NAME !== entityPath)
    return [["EVENTHUB_NAME", `must match the connection string's EntityPath "${entityPath}"`]];
  return [];
}

export function toConnection(s: ConnectionValues): Connection {
  return {
    eventHub: {
      ...(s.EVENTHUB_CONNECTION_STRING
        ? { connectionString: s.EVENTHUB_CONNECTION_STRING.raw }
        : { fullyQualifiedNamespace: s.EVENTHUB_NAMESPACE }),
      eventHubName: s.EVENTHUB_NAME ?? s.EVENTHUB_CONNECTION_STRING?.entityPath ?? "",
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
  };
}

/** The connection from raw settings, or one message per problem, as the worker reports them. */
export function validateConnection(raw: RawSettings<ConnectionSettingName>): { kind: "ok"; connection: Connection } | { kind: "invalid"; problems: string[] } {
  const checked = checkSettings(CONNECTION_SETTINGS, raw, { missing: missingConnection(raw), conflicts: connectionConflicts });
  return checked.kind === "ok" ? { kind: "ok", connection: toConnection(checked.values) } : checked;
}
