// How the replicas of a consumer group divide one deployment's quota. Every replica computes the same division
// from the same records (its own fresh state in place of its record), so no replica has to hand shares out:
// - a replica whose work waited for the deployment in the last moments wants all it can get;
// - any other replica gets what it needs (what it used, as far as its work asked for it), with headroom to grow,
//   and never less than a floor that lets a first request through at once;
// - max-min fairness (water-filling) divides the quota, less a safety margin for the service's short windows,
//   among them: replicas that want little get it, the rest split what remains equally.

/** What one replica said about one deployment. */
export interface QuotaDemand {
  replica: string;
  /** What it needs, per second, when it is not wanting more. */
  used: number;
  /** Whether its work waited for this deployment: it would use more if it had it. */
  wanting: boolean;
}

/**
 * The share of the quota the fleet aims to use. Azure evaluates quotas over 1 s or 10 s windows; replicas
 * pacing independently land unevenly in those windows, so the sum of the shares stays a little under the quota.
 */
export const QUOTA_TARGET = 0.95;
/** Headroom for a replica that is not waiting: what it used, times this. */
const HEADROOM = 1.5;
/** The smallest share a replica gets, as a share of an equal split: enough for its first requests without a wait. */
const FLOOR_OF_EQUAL_SPLIT = 0.1;

/** Each replica's share of `limit` (per second), by replica id. */
export function divideQuota(limit: number, demands: readonly QuotaDemand[]): Map<string, number> {
  const shares = new Map<string, number>();
  if (demands.length === 0) return shares;
  const available = limit * QUOTA_TARGET;
  const floor = (available / demands.length) * FLOOR_OF_EQUAL_SPLIT;
  const wants = demands
    .map((d) => ({ replica: d.replica, want: d.wanting ? Number.POSITIVE_INFINITY : Math.max(floor, d.used * HEADROOM) }))
    // Ties broken by id, so every replica computes the same division.
    .sort((a, b) => a.want - b.want || a.replica.localeCompare(b.replica));
  let remaining = available;
  wants.forEach(({ replica, want }, index) => {
    const equal = remaining / (wants.length - index);
    const share = Math.min(want, equal);
    shares.set(replica, share);
    remaining -= share;
  });
  // What the modest replicas left unused goes to the wanting ones; if none wants more, to everyone alike.
  const wanting = wants.filter((w) => !Number.isFinite(w.want));
  const takers = wanting.length > 0 ? wanting : wants;
  if (remaining > 1e-9) for (const { replica } of takers) shares.set(replica, (shares.get(replica) as number) + remaining / takers.length);
  return shares;
}
