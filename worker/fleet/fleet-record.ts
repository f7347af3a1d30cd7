// One replica's record in the checkpoint container: an empty blob per replica whose metadata says what the
// replica owns, which partitions it wants handed over, and how it uses each model deployment. Each replica
// writes only its own record and reads every record with one listing (metadata included), so a fleet of N
// costs N writes and N listings per sync interval, and nobody contends for a blob.
// Blob names follow the checkpoint store's layout: <namespace>/<hub>/<consumer group>/fleet/<replica>, lower case.

export const RECORD_FORMAT = "1";

/** How one replica uses one deployment. */
export interface DeploymentUse {
  /** Requests and tokens sent over the last second, per second. */
  requestsPerSecond: number;
  tokensPerSecond: number;
  /** Its work waited for this deployment within the last sync interval. */
  wanting: boolean;
}

export interface FleetRecord {
  replica: string;
  /** When the replica wrote it, by its clock (ms since the epoch). */
  writtenAt: number;
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

/** Blob metadata: ASCII values (deployment names are [A-Za-z0-9._-]), well under the 8 KB metadata limit. */
export function toMetadata(record: FleetRecord): Record<string, string> {
  const use = Object.fromEntries(
    Object.entries(record.deployments).map(([name, d]) => [name, [round(d.requestsPerSecond), round(d.tokensPerSecond), d.wanting ? 1 : 0]]),
  );
  return {
    format: RECORD_FORMAT,
    replica: record.replica,
    writtenat: String(record.writtenAt),
    owned: partitions(record.owned),
    wants: partitions(record.wants),
    deployments: JSON.stringify(use),
  };
}

/** The record a blob's metadata holds, or undefined when it is not one this version can read. */
export function fromMetadata(metadata: Record<string, string> | undefined): FleetRecord | undefined {
  if (!metadata || metadata.format !== RECORD_FORMAT || !metadata.replica) return undefined;
  const writtenAt = Number(metadata.writtenat);
  if (!Number.isFinite(writtenAt)) return undefined;
  let deployments: Record<string, DeploymentUse> = {};
  try {
    const use = JSON.parse(metadata.deployments ?? "{}") as Record<string, [number, number, number]>;
    deployments = Object.fromEntries(
      Object.entries(use).map(([name, [requests, tokens, wanting]]) => [name, { requestsPerSecond: Number(requests) || 0, tokensPerSecond: Number(tokens) || 0, wanting: wanting === 1 }]),
    );
  } catch {
    return undefined;
  }
  return { replica: metadata.replica, writtenAt, owned: parsePartitions(metadata.owned), wants: parsePartitions(metadata.wants), deployments };
}
