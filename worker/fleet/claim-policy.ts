// Which of the SDK load balancer's claims this replica actually makes, so that planned moves of partitions (a
// replica starting, scaling out, scaling in) cost no repeated model call:
// - a steal becomes a hand-over request instead: the owner finishes the calls it already made, checkpoints where
//   they end and releases the partition, which is then claimed unowned. Only if the owner has not released it
//   after the hand-over timeout (an owner of an older version, say, which does not read the requests) is it
//   stolen, as the SDK would have;
// - an unowned partition is claimed only up to this replica's fair share of the fleet (replicas that announced
//   themselves but own nothing yet count), so replicas starting together do not first all claim everything;
//   a partition left unowned for longer than a grace is claimed by whoever sees it, whatever the shares;
// - a partition this replica released is not claimed back by it for a while.
// Without fleet coordination (the records cannot be read) every claim the SDK wants is made, as before.
import type { PartitionOwnership } from "@azure/event-hubs";

/** What the claim policy needs to know of the fleet. */
export interface FleetView {
  coordinated(): boolean;
  /** Replicas with a fresh record, this one included. */
  liveReplicas(): number;
}

export interface ClaimPolicyOptions {
  replica: string;
  fleet: FleetView;
  partitionCount: number;
  ownershipExpirationMs: number;
  /** The load balancer's interval: how often the SDK proposes claims. */
  updateIntervalMs: number;
  /** How long a hand-over may take before the partition is stolen anyway. */
  handoverTimeoutMs: number;
  now?: () => number;
}

export type ClaimDecision = "renew" | "claim" | "steal" | "refuse";

export class ClaimPolicy {
  /** partition -> when this replica first asked for it, and when the SDK last proposed to steal it. */
  private readonly wanted = new Map<string, { since: number; proposedAt: number }>();
  /** partition -> when this replica released it. */
  private readonly releasedAt = new Map<string, number>();
  /** partition -> when it was first seen unowned while this replica held its fair share. */
  private readonly unownedSince = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: ClaimPolicyOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The partitions this replica asks their owners to hand over (published in its fleet record). */
  wants(): string[] {
    const now = this.now();
    for (const [partition, want] of this.wanted) {
      if (now - want.proposedAt > 3 * this.options.updateIntervalMs) this.wanted.delete(partition);
    }
    return [...this.wanted.keys()];
  }

  /**
   * Whether to make the SDK's claim of `request.partitionId`, given the ownership last listed for it and how
   * many partitions this replica owns now.
   */
  decide(request: PartitionOwnership, previous: PartitionOwnership | undefined, ownedCount: number): ClaimDecision {
    const { replica, fleet, ownershipExpirationMs, updateIntervalMs, handoverTimeoutMs, partitionCount } = this.options;
    const partition = request.partitionId;
    const now = this.now();
    if (previous?.ownerId === replica) return "renew";
    const released = this.releasedAt.get(partition);
    if (released !== undefined && now - released < 2 * updateIntervalMs + ownershipExpirationMs / 2) return "refuse";
    this.releasedAt.delete(partition);
    if (!fleet.coordinated()) return previous?.ownerId ? "steal" : "claim";

    const owner = previous?.ownerId;
    const active = owner !== undefined && owner !== "" && now - (previous?.lastModifiedTimeInMs ?? 0) < ownershipExpirationMs;
    if (active) {
      this.unownedSince.delete(partition);
      const want = this.wanted.get(partition) ?? { since: now, proposedAt: now };
      want.proposedAt = now;
      this.wanted.set(partition, want);
      return now - want.since >= handoverTimeoutMs ? "steal" : "refuse";
    }
    this.wanted.delete(partition);
    const fairShare = Math.ceil(partitionCount / Math.max(1, fleet.liveReplicas()));
    if (ownedCount < fairShare) {
      this.unownedSince.delete(partition);
      return "claim";
    }
    const since = this.unownedSince.get(partition) ?? now;
    this.unownedSince.set(partition, since);
    return now - since >= 2 * updateIntervalMs ? "claim" : "refuse";
  }

  /** This replica released the partition (a hand-over). */
  released(partition: string): void {
    this.releasedAt.set(partition, this.now());
    this.wanted.delete(partition);
  }
}
