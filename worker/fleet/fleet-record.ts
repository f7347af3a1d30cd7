// One replica's record in the checkpoint container: an empty blob per replica whose metadata says what the
// replica owns, which partitions it wants handed over, and how it uses each model deployment. Each replica
// writes only its own record and reads every record with one listing (metadata included), so a fleet of N
// costs N writes and N listings per sync interval, and nobody contends for a blob.
// Blob names follow the checkpoint store's layout: <namespace>/<hub>/<consumer group>/fleet/<replica>, lower case.
// The explorer reads the same records to show how the fleet uses each deployment's quota.
import type { CircuitStateName } from "../processing/model/circuit-breaker";

export const RECORD_FORMAT = "1";

/** How one replica uses one deployment. */
export interface DeploymentUse {
  /** Requests and tokens sent over the last second, per second. */
  requestsPerSecond: number;
  tokensPerSecond: number;
  /** Its work waited for this deployment just now: it would use more if it had it. */
  wanting: boolean;
  /**
   * What it needs of the deployment when it is not wanting more: what it sent over the last second, but no more
   * than its work asked for meanwhile (a replica that just drained its backlog needs nothing, however much it sent).
   */
  needRequestsPerSecond: number;
  needTokensPerSecond: number;
  /** Answers over the last second, per second: accepted (200) and throttled (429). */
  acceptedPerSecond: number;
  throttledPerSecond: number;
  /** Its share of the deployment's request and token quotas, per second, when the fleet sets them. */
  shareRequestsPerSecond?: number;
  shareTokensPerSecond?: number;
  /** The deployment's request and token quotas for the whole fleet, per second, when configured. */
  quotaRequestsPerSecond?: number;
  quotaTokensPerSecond?: number;
  circuit: CircuitStateName;
}

export interface FleetRecord {
  replica: string;
  /** When the replica wrote it, by its clock (ms since the epoch). */
  writtenAt: number;
  /**
   * How long after it was written the record still speaks for a live replica (by the storage service's clock: its
   * Last-Modified). A few of the replica's sync intervals, so readers need not know its settings.
   */
  freshForMs: number;
  owned: string[];
  /** Partitions it wants their owners to hand over. */
  wants: string[];
  /** By deployment name. */
  deployments: Record<string, DeploymentUse>;
}

export function recordPrefix(fullyQualifiedNamespace: string, eventHubName: string, consumerGroup: string): string {
  return `${fullyQualifiedNamespace}/${eventHubName}/${consumerGroup}/fleet/`.toLowerCase();
}

const partitions = (list: string[]) => list.join(",");
const parsePartitions = (text: string | undefined) => (text ? text.split(",").filter((p) => p !== "") : []);
const round = (n: number) => Math.round(n * 1000) / 1000;

const CIRCUITS: readonly CircuitStateName[] = ["closed", "open", "half-open"];
/**
 * One deployment's use as a compact array: [sent/s, tokens/s, wanting, need requests/s, need tokens/s, accepted/s,
 * throttled/s, share requests/s, share tokens/s, quota requests/s, quota tokens/s, circuit]; -1 for none.
 */
type EncodedUse = [number, number, 0 | 1, number, number, number, number, number, number, number, number, number];
const OPTIONAL = ["shareRequestsPerSecond", "shareTokensPerSecond", "quotaRequestsPerSecond", "quotaTokensPerSecond"] as const;

function encodeUse(d: DeploymentUse): EncodedUse {
  const [shareRequests, shareTokens, quotaRequests, quotaTokens] = OPTIONAL.map((key) => (d[key] === undefined ? -1 : round(d[key])));
  return [
    round(d.requestsPerSecond), round(d.tokensPerSecond), d.wanting ? 1 : 0, round(d.needRequestsPerSecond), round(d.needTokensPerSecond),
    round(d.acceptedPerSecond), round(d.throttledPerSecond),
    shareRequests as number, shareTokens as number, quotaRequests as number, quotaTokens as number, Math.max(0, CIRCUITS.indexOf(d.circuit)),
  ];
}

function decodeUse(encoded: unknown): DeploymentUse | undefined {
  if (!Array.isArray(encoded) || encoded.length !== 12 || !encoded.every((n) => typeof n === "number" && Number.isFinite(n))) return undefined;
  const [requests, tokens, wanting, needRequests, needTokens, accepted, throttled, ...rest] = encoded as EncodedUse;
  const circuit = rest.pop() as number;
  const use: DeploymentUse = {
    requestsPerSecond: requests, tokensPerSecond: tokens, wanting: wanting === 1, needRequestsPerSecond: needRequests, needTokensPerSecond: needTokens,
    acceptedPerSecond: accepted, throttledPerSecond: throttled, circuit: CIRCUITS[circuit] ?? "closed",
  };
  OPTIONAL.forEach((key, i) => {
    if ((rest[i] as number) >= 0) use[key] = rest[i] as number;
  });
  return use;
}

/** Blob metadata: ASCII values (deployment names are [A-Za-z0-9._-]), well under the 8 KB metadata limit. */
export function toMetadata(record: FleetRecord): Record<string, string> {
  const use = Object.fromEntries(Object.entries(record.deployments).map(([name, d]) => [name, encodeUse(d)]));
  return {
    format: RECORD_FORMAT,
    replica: record.replica,
    writtenat: String(record.writtenAt),
    freshforms: String(record.freshForMs),
    owned: partitions(record.owned),
    wants: partitions(record.wants),
    deployments: JSON.stringify(use),
  };
}

/** The record a blob's metadata holds, or undefined when it is not one this version can read. */
export function fromMetadata(metadata: Record<string, string> | undefined): FleetRecord | undefined {
  if (!metadata || metadata.format !== RECORD_FORMAT || !metadata.replica) return undefined;
  const writtenAt = Number(metadata.writtenat);
  const freshForMs = Number(metadata.freshforms);
  if (!Number.isFinite(writtenAt) || !(freshForMs > 0)) return undefined;
  const deployments: Record<string, DeploymentUse> = {};
  try {
    for (const [name, encoded] of Object.entries(JSON.parse(metadata.deployments ?? "{}") as Record<string, unknown>)) {
      const use = decodeUse(encoded);
      if (!use) return undefined;
      deployments[name] = use;
    }
  } catch {
    return undefined;
  }
  return { replica: metadata.replica, writtenAt, freshForMs, owned: parsePartitions(metadata.owned), wants: parsePartitions(metadata.wants), deployments };
}
