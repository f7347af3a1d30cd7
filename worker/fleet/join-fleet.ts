// Wires one worker into its fleet: the coordinator's records (quota shares, hand-over requests), the claim
// policy on the SDK's load balancer, and the hand-overs this worker makes when another replica asks.
import type { ContainerClient } from "@azure/storage-blob";
import type { Logger } from "pino";
import type { OwnershipTracker } from "../ownership-tracker";
import type { PartitionHandler } from "../partition-handler";
import { ClaimPolicy } from "./claim-policy";
import { FleetCoordinator, type QuotaParticipant } from "./fleet-coordinator";
import { recordPrefix } from "./fleet-record";

/**
 * How long an owner may take to finish the calls it already made for a partition before it releases it
 * anyway (the calls still running are abandoned: their events are replayed by the next owner).
 */
export const HANDOVER_DEADLINE_MS = 10_000;

export interface FleetMembership {
  /** Why this replica is not coordinated, for readiness (it stays ready: coordination never stops the worker). */
  note(): string | undefined;
  coordinator: FleetCoordinator;
  stop(): Promise<void>;
}

export interface JoinFleetOptions {
  replica: string;
  container: ContainerClient;
  scope: { fullyQualifiedNamespace: string; eventHubName: string; consumerGroup: string };
  /** Unknown when Event Hubs could not be reached at start: then the SDK's claims are made unfiltered. */
  partitionCount: number | undefined;
  syncIntervalMs: number;
  loadBalancing: { updateIntervalMs: number; ownershipExpirationMs: number };
  quotas: readonly QuotaParticipant[];
  ownership: OwnershipTracker;
  handler: PartitionHandler;
  logger: Logger;
}

/**
 * How often to sync: as configured while a deployment's quota is shared (shares must follow demand within
 * seconds); otherwise the records only carry hand-over requests, which the load balancer acts on once per round,
 * so one sync per round is enough. Each sync costs two storage operations.
 */
function syncInterval(options: JoinFleetOptions): number {
  const sharing = options.quotas.some((q) => q.quota.requestsPerMinute !== undefined || q.quota.tokensPerMinute !== undefined);
  return sharing ? options.syncIntervalMs : Math.max(options.syncIntervalMs, options.loadBalancing.updateIntervalMs);
}

export async function joinFleet(options: JoinFleetOptions): Promise<FleetMembership> {
  const { replica, ownership, handler, logger, loadBalancing, partitionCount } = options;
  let policy: ClaimPolicy | undefined;
  const coordinator = new FleetCoordinator({
    container: options.container,
    prefix: recordPrefix(options.scope.fullyQualifiedNamespace, options.scope.eventHubName, options.scope.consumerGroup),
    replica,
    syncIntervalMs: syncInterval(options),
    owned: () => ownership.ownedPartitions(),
    wants: () => policy?.wants() ?? [],
    onHandoverRequests: (requests) => {
      if (partitionCount === undefined) return;
      // Hand over only what this replica holds beyond its share, one partition per request.
      const keep = Math.floor(partitionCount / coordinator.liveReplicas());
      let spare = ownership.ownedPartitions().length - handler.handingOver().length - keep;
      for (const { partition, by } of requests) {
        if (spare <= 0) return;
        if (handler.handingOver().includes(partition)) continue;
        spare--;
        logger.info({ partitionId: partition, to: by }, "another replica asked for this partition: finishing the calls already made, then handing it over");
        void handler.handOver(partition, HANDOVER_DEADLINE_MS);
      }
    },
    logger,
  });
  coordinator.shareQuotas(options.quotas);
  if (partitionCount !== undefined) {
    policy = new ClaimPolicy({
      replica,
      fleet: coordinator,
      partitionCount,
      ownershipExpirationMs: loadBalancing.ownershipExpirationMs,
      updateIntervalMs: loadBalancing.updateIntervalMs,
      // Long enough for a hand-over and the next load-balancing round; a steal after that, as without a fleet.
      handoverTimeoutMs: Math.max(30_000, HANDOVER_DEADLINE_MS + 3 * loadBalancing.updateIntervalMs),
    });
    ownership.useClaimFilter(policy);
  }
  await coordinator.start();
  return {
    coordinator,
    note: () => {
      const status = coordinator.status();
      return status.coordinated
        ? undefined
        : `fleet coordination unavailable (${status.problem}): model quotas are paced by this replica alone and partitions move without hand-overs`;
    },
    stop: () => coordinator.stop(),
  };
}
