// How a consumer group's fleet uses each model deployment's quota, from one reading of its fleet records: per
// deployment the quota, what the live replicas sent, had accepted and had throttled per second (summed), and
// each replica's share, use and circuit. Records too old to be fresh belong to replicas that are gone: counted,
// never summed.
import type { CircuitStateName, DeploymentUse } from "../worker/index";
import type { FleetListing } from "./fleet-records";

export interface ReplicaUse {
  replica: string;
  /** Seconds since its record was written, by the storage service's clock. */
  ageSeconds: number;
  /** Its share of the quota set by the fleet; null when it has none (no quota, or not coordinated). */
  shareRequestsPerSecond: number | null;
  /** What it sent, per second: its use of the share. */
  sentPerSecond: number;
  acceptedPerSecond: number;
  throttledPerSecond: number;
  /** Its work waited for this deployment: it would use more if it had it. */
  wanting: boolean;
  circuit: CircuitStateName;
}

export interface DeploymentQuota {
  name: string;
  /** The fleet's request quota per second, as the live replicas state it (the highest, should they differ); null: none configured. */
  quotaRequestsPerSecond: number | null;
  /** Sums over the live replicas. */
  sentPerSecond: number;
  acceptedPerSecond: number;
  throttledPerSecond: number;
  /** Accepted / quota; null without a quota. */
  fill: number | null;
  /** Live replicas per circuit state. */
  circuits: Record<CircuitStateName, number>;
  replicas: ReplicaUse[];
}

export interface FleetQuota {
  /** Replicas with a fresh record, with or without model deployments. */
  liveReplicas: number;
  /** Records too old to be fresh that the workers have not deleted yet. */
  goneReplicas: number;
  unreadableRecords: number;
  deployments: DeploymentQuota[];
}

/** Rates are sums of values rounded to 1/1000: round the sums alike, so 0.1 + 0.2 reads 0.3. */
export const roundRate = (n: number) => Math.round(n * 1000) / 1000;

/** A record speaks for a live replica while it is younger than the freshness it states, as the workers judge it. */
export function summariseQuota(listing: FleetListing): FleetQuota {
  const live = listing.records.filter((r) => r.ageSeconds * 1000 <= r.record.freshForMs).sort((a, b) => a.record.replica.localeCompare(b.record.replica));
  const byDeployment = new Map<string, Array<{ replica: string; ageSeconds: number; use: DeploymentUse }>>();
  for (const { record, ageSeconds } of live) {
    for (const [name, use] of Object.entries(record.deployments)) {
      byDeployment.set(name, [...(byDeployment.get(name) ?? []), { replica: record.replica, ageSeconds, use }]);
    }
  }
  const deployments = [...byDeployment.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, uses]): DeploymentQuota => {
      const total = (rate: (u: DeploymentUse) => number) => roundRate(uses.reduce((sum, u) => sum + rate(u.use), 0));
      const quotas = uses.flatMap((u) => (u.use.quotaRequestsPerSecond === undefined ? [] : [u.use.quotaRequestsPerSecond]));
      const quota = quotas.length > 0 ? Math.max(...quotas) : null;
      const accepted = total((u) => u.acceptedPerSecond);
      const circuits: Record<CircuitStateName, number> = { closed: 0, open: 0, "half-open": 0 };
      for (const u of uses) circuits[u.use.circuit]++;
      return {
        name,
        quotaRequestsPerSecond: quota,
        sentPerSecond: total((u) => u.requestsPerSecond),
        acceptedPerSecond: accepted,
        throttledPerSecond: total((u) => u.throttledPerSecond),
        fill: quota ? roundRate(accepted / quota) : null,
        circuits,
        replicas: uses.map(({ replica, ageSeconds, use }) => ({
          replica,
          ageSeconds,
          shareRequestsPerSecond: use.shareRequestsPerSecond ?? null,
          sentPerSecond: use.requestsPerSecond,
          acceptedPerSecond: use.acceptedPerSecond,
          throttledPerSecond: use.throttledPerSecond,
          wanting: use.wanting,
          circuit: use.circuit,
        })),
      };
    });
  return { liveReplicas: live.length, goneReplicas: listing.records.length - live.length, unreadableRecords: listing.unreadable, deployments };
}
