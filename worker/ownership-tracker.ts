// A CheckpointStore decorator that watches the SDK's own ownership traffic (claims, renewals, listings) so the
// worker knows which partitions it owns right now, without extra storage calls. The SDK notices a lost
// partition only when the new owner's receiver disconnects ours; this tracker notices a failed renewal or
// another owner in the listing, which is what keeps a stale owner from writing checkpoints.
import type { Checkpoint, CheckpointStore, OperationOptions, PartitionOwnership } from "@azure/event-hubs";

export class OwnershipTracker implements CheckpointStore {
  private ownerId: string | undefined;
  /** partition -> when our claim or renewal last succeeded (ms). */
  private readonly owned = new Map<string, number>();
  /** partition -> the other owner seen in a listing, until we claim it again. */
  private readonly takenBy = new Map<string, string>();
  private readonly listeners = new Set<(owned: string[]) => void>();
  private listedAt: number | undefined;

  constructor(
    private readonly inner: CheckpointStore,
    private readonly expirationMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The subscription's processor id, once it has claimed something. */
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
    const claimed = await this.inner.claimOwnership(requests, options);
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
