// A CheckpointStore decorator that watches the SDK's own ownership traffic (claims, renewals, listings) so the
// worker knows which partitions it owns right now, without extra storage calls. The SDK notices a lost
// partition only when the new owner's receiver disconnects ours; this tracker notices a failed renewal or
// another owner in the listing, which is what keeps a stale owner from writing checkpoints.
// With a claim policy (the fleet's, see fleet/claim-policy.ts) it also decides which of the SDK's claims are
// made, and it releases a partition this worker hands over.
import type { Checkpoint, CheckpointStore, OperationOptions, PartitionOwnership } from "@azure/event-hubs";

/** Decides which claims the SDK's load balancer proposes are made (refused ones count as lost races). */
export interface ClaimFilter {
  decide(request: PartitionOwnership, previous: PartitionOwnership | undefined, ownedCount: number): "renew" | "claim" | "steal" | "refuse";
  released(partitionId: string): void;
}

export class OwnershipTracker implements CheckpointStore {
  private ownerId: string | undefined;
  /** partition -> when our claim or renewal last succeeded (ms). */
  private readonly owned = new Map<string, number>();
  /** partition -> the other owner seen in a listing, until we claim it again. */
  private readonly takenBy = new Map<string, string>();
  private readonly listeners = new Set<(owned: string[]) => void>();
  private listedAt: number | undefined;
  /** partition -> its ownership record as last listed or claimed (with the etag a release needs). */
  private readonly records = new Map<string, PartitionOwnership>();
  private claimFilter: ClaimFilter | undefined;

  constructor(
    private readonly inner: CheckpointStore,
    private readonly expirationMs: number,
    private readonly now: () => number = Date.now,
    /** The subscription's processor id when the worker chose it (EventHubConsumerClient's identifier). */
    ownerId?: string,
  ) {
    this.ownerId = ownerId;
  }

  /** The subscription's processor id: given at construction, or learned from its first claim. */
  get id(): string | undefined {
    return this.ownerId;
  }

  /** When the SDK's load balancer last listed ownership: it does so only after Event Hubs answered it (ms). */
  get lastListedAt(): number | undefined {
    return this.listedAt;
  }

  isOwner(partitionId: string): boolean {
    const renewedAt = this.owned.get(partitionId);
    return renewedAt !== undefined && this.now() - renewedAt < this.expirationMs;
  }

  /** Why this worker does not own the partition now, in words for a log line. */
  whyNotOwner(partitionId: string): string {
    const other = this.takenBy.get(partitionId);
    if (other !== undefined) return `worker ${other} owns it now`;
    const renewedAt = this.owned.get(partitionId);
    if (renewedAt !== undefined) {
      return `this worker could not renew its ownership for ${this.now() - renewedAt} ms (expiration ${this.expirationMs} ms; is storage reachable?), so another worker may take it over`;
    }
    return "this worker does not own it";
  }

  ownedPartitions(): string[] {
    return [...this.owned.keys()].filter((p) => this.isOwner(p)).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  }

  /** From now on, the SDK's claims go through `filter`. */
  useClaimFilter(filter: ClaimFilter): void {
    this.claimFilter = filter;
  }

  /**
   * Gives up a partition this worker owns (a hand-over): its ownership record gets an empty owner, which every
   * load balancer reads as free to claim. False if the record changed meanwhile (someone took it already).
   */
  async release(partitionId: string): Promise<boolean> {
    const record = this.records.get(partitionId);
    if (!record || record.ownerId !== this.ownerId) return false;
    const released = await this.inner.claimOwnership([{ ...record, ownerId: "" }]);
    this.update(() => this.owned.delete(partitionId));
    this.claimFilter?.released(partitionId);
    for (const ownership of released) this.records.set(ownership.partitionId, ownership);
    return released.length > 0;
  }

  /**
   * The SDK closed the partition because another worker's receiver took it over: it is not owned any more, even
   * before the next listing says who owns it now.
   */
  lost(partitionId: string): void {
    this.update(() => this.owned.delete(partitionId));
  }

  /** Called with the owned partitions whenever the set changes. */
  onChange(listener: (owned: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listOwnership(
    fullyQualifiedNamespace: string,
    eventHubName: string,
    consumerGroup: string,
    options?: OperationOptions,
  ): Promise<PartitionOwnership[]> {
    const ownerships = await this.inner.listOwnership(fullyQualifiedNamespace, eventHubName, consumerGroup, options);
    this.listedAt = this.now();
    for (const ownership of ownerships) this.records.set(ownership.partitionId, ownership);
    this.update(() => {
      for (const ownership of ownerships) {
        if (this.ownerId !== undefined && ownership.ownerId !== this.ownerId) {
          this.owned.delete(ownership.partitionId);
          if (ownership.ownerId) this.takenBy.set(ownership.partitionId, ownership.ownerId);
        }
      }
    });
    return ownerships;
  }

  async claimOwnership(requests: PartitionOwnership[], options?: OperationOptions): Promise<PartitionOwnership[]> {
    const filter = this.claimFilter;
    const allowed = filter
      ? requests.filter((r) => r.ownerId === "" || filter.decide(r, this.records.get(r.partitionId), this.ownedPartitions().length) !== "refuse")
      : requests;
    const claimed = allowed.length > 0 ? await this.inner.claimOwnership(allowed, options) : [];
    for (const ownership of claimed) this.records.set(ownership.partitionId, ownership);
    this.update(() => {
      const won = new Set(claimed.map((ownership) => ownership.partitionId));
      for (const request of requests) {
        // An empty ownerId is the SDK abandoning the partition on close.
        if (request.ownerId === "") {
          this.owned.delete(request.partitionId);
          continue;
        }
        this.ownerId = request.ownerId;
        if (won.has(request.partitionId)) {
          this.owned.set(request.partitionId, this.now());
          this.takenBy.delete(request.partitionId);
        }
        else this.owned.delete(request.partitionId);
      }
    });
    return claimed;
  }

  updateCheckpoint(checkpoint: Checkpoint, options?: OperationOptions): Promise<void> {
    return this.inner.updateCheckpoint(checkpoint, options);
  }

  listCheckpoints(
    fullyQualifiedNamespace: string,
    eventHubName: string,
    consumerGroup: string,
    options?: OperationOptions,
  ): Promise<Checkpoint[]> {
    return this.inner.listCheckpoints(fullyQualifiedNamespace, eventHubName, consumerGroup, options);
  }

  private update(change: () => void): void {
    const before = this.ownedPartitions().join(",");
    change();
    const after = this.ownedPartitions();
    if (after.join(",") !== before) for (const listener of this.listeners) listener(after);
  }
}
