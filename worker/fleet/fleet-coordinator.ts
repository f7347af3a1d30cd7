// The replicas of one consumer group coordinate through the storage account they already share for ownership
// and checkpoints. Every sync interval each replica writes its record (fleet-record.ts) and lists everyone's:
// - each model deployment's quota is divided among the replicas by what each uses and wants (quota-shares.ts),
//   so together they stay under it without learning it from refusals, and a replica that runs out of work
//   hands its share to the others within a couple of intervals;
// - hand-over requests (claim-policy.ts) reach the partitions' owners.
// Cost: one write and one listing per replica per interval (32 replicas at 1 s: 64 storage requests a second;
// a storage account takes 20,000). When the records cannot be written or read for longer than a record stays
// fresh, the replica is uncoordinated: each governor paces on its own from the 429s it sees, every claim the
// SDK wants is made, and readiness says so. Coordination never stops the worker.
import type { ContainerClient } from "@azure/storage-blob";
import type { Logger } from "pino";
import type { Rates } from "../processing/model/rate-governor";
import { errorFields } from "../telemetry/logger";
import type { FleetView } from "./claim-policy";
import { fromMetadata, toMetadata, type DeploymentUse, type FleetRecord } from "./fleet-record";
import { divideQuota } from "./quota-shares";

/** A model deployment whose quota the fleet shares (the model processor's deployments implement it). */
export interface QuotaParticipant {
  name: string;
  quota: { requestsPerMinute?: number; tokensPerMinute?: number };
  /** How this replica uses it; `withinMs` is how far back "its work waited" looks. */
  use(withinMs: number): DeploymentUse;
  /** This replica's share per second; undefined: none, pace on its own. */
  setShare(share: Rates | undefined): void;
}

export interface FleetCoordinatorOptions {
  container: ContainerClient;
  /** recordPrefix(namespace, hub, consumer group). */
  prefix: string;
  replica: string;
  syncIntervalMs: number;
  /** What this replica owns now, for its record and to know which hand-over requests are for it. */
  owned: () => string[];
  /** Partitions this replica asks their owners to hand over. */
  wants: () => string[];
  /** Other live replicas asked for these partitions, which this one owns (called after every sync). */
  onHandoverRequests: (requests: ReadonlyArray<{ partition: string; by: string }>) => void;
  logger: Logger;
}

export interface FleetStatus {
  coordinated: boolean;
  /** Replicas with a fresh record, this one included. */
  replicas: number;
  /** Why the replica is uncoordinated, when it is. */
  problem?: string;
}

/**
 * A replica "wants" a deployment when its work waited for it this recently: with a backlog, the queue's head
 * waits for the pace almost all the time, so a short look back is enough, and a replica that ran out of work
 * stops wanting at once.
 */
const WANTING_LOOKBACK_MS = 250;
/** A record speaks for a live replica for this many of its sync intervals (by the storage service's clock). */
const FRESH_INTERVALS = 5;
/** Records of replicas gone for this long are deleted by whoever sees them. */
const GONE_AFTER_MS = 60_000;

export class FleetCoordinator implements FleetView {
  private readonly participants: QuotaParticipant[] = [];
  private peers: FleetRecord[] = [];
  private lastSyncAt: number | undefined;
  private problem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: FleetCoordinatorOptions) {}

  /** Shares these deployments' quotas with the fleet from the next sync on. */
  shareQuotas(participants: readonly QuotaParticipant[]): void {
    this.participants.push(...participants);
  }

  /** Writes the first record now (hand-overs and shares start from it), then keeps syncing every interval. */
  async start(): Promise<void> {
    await this.sync();
    this.schedule();
  }

  /** Stops syncing and deletes this replica's record, so the others take its share at their next sync. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.syncing;
    await this.recordBlob()
      .deleteIfExists({ abortSignal: AbortSignal.timeout(5000) })
      .catch((error: unknown) => this.options.logger.warn({ err: errorFields(error) }, "could not delete this replica's fleet record; it goes stale by itself"));
  }

  coordinated(): boolean {
    return this.lastSyncAt !== undefined && Date.now() - this.lastSyncAt <= this.freshForMs();
  }

  liveReplicas(): number {
    return this.coordinated() ? this.peers.length + 1 : 1;
  }

  status(): FleetStatus {
    const status: FleetStatus = { coordinated: this.coordinated(), replicas: this.liveReplicas() };
    if (!status.coordinated) status.problem = this.problem ?? "no fleet record written yet";
    return status;
  }

  /** The other replicas' fresh records, as last read. */
  peerRecords(): readonly FleetRecord[] {
    return this.coordinated() ? this.peers : [];
  }

  private freshForMs(): number {
    return FRESH_INTERVALS * this.options.syncIntervalMs;
  }

  private recordBlob() {
    return this.options.container.getBlockBlobClient(`${this.options.prefix}${this.options.replica}`);
  }

  private schedule(): void {
    if (this.stopped) return;
    // Jitter keeps replicas started together from writing in lockstep.
    const delay = this.options.syncIntervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => {
      this.syncing = this.sync().finally(() => {
        this.syncing = undefined;
        this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async sync(): Promise<void> {
    const { container, prefix, replica, syncIntervalMs, logger } = this.options;
    const wasCoordinated = this.coordinated();
    const record: FleetRecord = {
      replica,
      writtenAt: Date.now(),
      freshForMs: this.freshForMs(),
      owned: this.options.owned(),
      wants: this.options.wants(),
      deployments: Object.fromEntries(this.participants.map((p) => [p.name, p.use(WANTING_LOOKBACK_MS)])),
    };
    const timeout = { abortSignal: AbortSignal.timeout(Math.max(2 * syncIntervalMs, 5000)) };
    try {
      await this.recordBlob().upload("", 0, { metadata: toMetadata(record), ...timeout });
      const listed: Array<{ record: FleetRecord; lastModified: number; name: string; etag: string | undefined }> = [];
      // Each record says how long it stays fresh, so replicas with other intervals are judged by their own.
      for await (const blob of container.listBlobsFlat({ prefix, includeMetadata: true, ...timeout })) {
        const parsed = fromMetadata(blob.metadata);
        if (parsed) listed.push({ record: parsed, lastModified: blob.properties.lastModified.getTime(), name: blob.name, etag: blob.properties.etag });
      }
      // Freshness by the service's clock: our own record was written just now, so its time is the service's "now".
      const serviceNow = listed.find((l) => l.record.replica === replica)?.lastModified ?? Date.now();
      this.peers = listed.filter((l) => l.record.replica !== replica && serviceNow - l.lastModified <= l.record.freshForMs).map((l) => l.record);
      await this.forgetGone(listed.filter((l) => serviceNow - l.lastModified > GONE_AFTER_MS));
      this.lastSyncAt = Date.now();
      this.problem = undefined;
      if (!wasCoordinated) logger.info({ replicas: this.liveReplicas() }, "fleet coordination on: sharing model quotas and handing partitions over with the other replicas");
    } catch (error) {
      this.problem = `fleet records in container "${container.containerName}" unreachable: ${errorFields(error).message}`;
      if (wasCoordinated && !this.coordinated()) {
        logger.warn({ err: errorFields(error) }, "fleet coordination lost: each model deployment is paced from this replica's own 429s until the records can be read again");
      }
    }
    this.apply();
  }

  /** Applies what the records say: each deployment's share, and the hand-overs other replicas asked for. */
  private apply(): void {
    const coordinated = this.coordinated();
    for (const participant of this.participants) {
      const share = coordinated ? this.shareOf(participant) : undefined;
      participant.setShare(share);
      this.options.logger.debug({ deployment: participant.name, share, use: participant.use(WANTING_LOOKBACK_MS), replicas: this.liveReplicas() }, "fleet quota share");
    }
    if (!coordinated) return;
    const owned = new Set(this.options.owned());
    const requests = this.peers.flatMap((peer) => peer.wants.filter((p) => owned.has(p)).map((partition) => ({ partition, by: peer.replica })));
    if (requests.length > 0) this.options.onHandoverRequests(requests);
  }

  private shareOf(participant: QuotaParticipant): Rates | undefined {
    const { requestsPerMinute, tokensPerMinute } = participant.quota;
    if (requestsPerMinute === undefined && tokensPerMinute === undefined) return undefined;
    const mine = participant.use(WANTING_LOOKBACK_MS);
    // Replicas without the deployment in their record do not call it (another configuration): not counted.
    const users = [{ replica: this.options.replica, use: mine }, ...this.peers.flatMap((p) => (p.deployments[participant.name] ? [{ replica: p.replica, use: p.deployments[participant.name] as DeploymentUse }] : []))];
    const share = (perMinute: number | undefined, used: (u: DeploymentUse) => number) =>
      perMinute === undefined
        ? Number.POSITIVE_INFINITY
        : (divideQuota(perMinute / 60, users.map((u) => ({ replica: u.replica, used: used(u.use), wanting: u.use.wanting }))).get(this.options.replica) as number);
    return { requestsPerSecond: share(requestsPerMinute, (u) => u.needRequestsPerSecond), tokensPerSecond: share(tokensPerMinute, (u) => u.needTokensPerSecond) };
  }

  /** Deletes records of replicas gone for a minute; a record rewritten meanwhile (its etag changed) stays. */
  private async forgetGone(gone: Array<{ name: string; etag: string | undefined }>): Promise<void> {
    for (const { name, etag } of gone.slice(0, 2)) {
      await this.options.container
        .getBlobClient(name)
        .deleteIfExists({ conditions: etag ? { ifMatch: etag } : {}, abortSignal: AbortSignal.timeout(5000) })
        .catch(() => undefined);
    }
  }
}
