// The Kafka APIs the emulator serves, with the versions it answers and the first flexible version of
// each (KIP-482: compact encodings and tagged fields). ApiVersions advertises exactly this table, so a
// client never picks a version we cannot answer; anything else is not advertised. The ranges cover what
// kafkajs 2.x, librdkafka 2.x and the Java client negotiate by default.

export const API = {
  produce: 0,
  fetch: 1,
  listOffsets: 2,
  metadata: 3,
  offsetCommit: 8,
  offsetFetch: 9,
  findCoordinator: 10,
  joinGroup: 11,
  heartbeat: 12,
  leaveGroup: 13,
  syncGroup: 14,
  describeGroups: 15,
  listGroups: 16,
  saslHandshake: 17,
  apiVersions: 18,
  createTopics: 19,
  initProducerId: 22,
  saslAuthenticate: 36,
} as const;

export type ApiKey = (typeof API)[keyof typeof API];

export interface ApiRange {
  key: ApiKey;
  name: string;
  min: number;
  max: number;
  /** First flexible version; Infinity when none we serve is flexible. */
  flexibleFrom: number;
}

const NEVER = Number.POSITIVE_INFINITY;

export const SUPPORTED_APIS: readonly ApiRange[] = [
  // Only record batch v2 (Kafka 0.11+: Produce v3+, Fetch v4+) is stored or returned, as on Event Hubs
  // (Kafka 1.0+); older message formats are refused. The old versions are still listed because librdkafka
  // decides from them what the broker can do: it compresses with gzip only if Produce v0 is listed, and
  // enables its MsgVer1 features from Produce/Fetch v2. Clients use the highest version both sides know.
  // Fetch v13 would need topic ids.
  { key: API.produce, name: "Produce", min: 0, max: 9, flexibleFrom: 9 },
  { key: API.fetch, name: "Fetch", min: 0, max: 12, flexibleFrom: 12 },
  { key: API.listOffsets, name: "ListOffsets", min: 0, max: 7, flexibleFrom: 6 },
  { key: API.metadata, name: "Metadata", min: 0, max: 12, flexibleFrom: 9 },
  { key: API.offsetCommit, name: "OffsetCommit", min: 0, max: 8, flexibleFrom: 8 },
  { key: API.offsetFetch, name: "OffsetFetch", min: 0, max: 7, flexibleFrom: 6 },
  { key: API.findCoordinator, name: "FindCoordinator", min: 0, max: 4, flexibleFrom: 3 },
  { key: API.joinGroup, name: "JoinGroup", min: 0, max: 7, flexibleFrom: 6 },
  { key: API.heartbeat, name: "Heartbeat", min: 0, max: 4, flexibleFrom: 4 },
  { key: API.leaveGroup, name: "LeaveGroup", min: 0, max: 4, flexibleFrom: 4 },
  { key: API.syncGroup, name: "SyncGroup", min: 0, max: 5, flexibleFrom: 4 },
  { key: API.describeGroups, name: "DescribeGroups", min: 0, max: 5, flexibleFrom: 5 },
  { key: API.listGroups, name: "ListGroups", min: 0, max: 4, flexibleFrom: 3 },
  { key: API.saslHandshake, name: "SaslHandshake", min: 0, max: 1, flexibleFrom: NEVER },
  { key: API.apiVersions, name: "ApiVersions", min: 0, max: 3, flexibleFrom: 3 },
  { key: API.createTopics, name: "CreateTopics", min: 0, max: 4, flexibleFrom: NEVER },
  { key: API.initProducerId, name: "InitProducerId", min: 0, max: 4, flexibleFrom: 2 },
  { key: API.saslAuthenticate, name: "SaslAuthenticate", min: 0, max: 2, flexibleFrom: 2 },
];

const BY_KEY = new Map<number, ApiRange>(SUPPORTED_APIS.map((api) => [api.key, api]));

export function apiRange(key: number): ApiRange | undefined {
  return BY_KEY.get(key);
}

/** APIs a client may use before it has authenticated. */
export const PRE_AUTH_APIS: ReadonlySet<number> = new Set([API.apiVersions, API.saslHandshake, API.saslAuthenticate]);
