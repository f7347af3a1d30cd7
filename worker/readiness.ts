// When the worker is ready (GET /readyz and /status): the rules, each with the reason an operator reads while it
// is not, and the notes on what is wrong without stopping it.
import type { PartitionContext, Subscription, SubscriptionEventHandlers } from "@azure/event-hubs";
import type { ContainerClient } from "@azure/storage-blob";
import type { AccessProblem } from "./event-hubs-access";
import type { FleetMembership } from "./fleet/join-fleet";
import type { OwnershipTracker } from "./ownership-tracker";
import type { Processor } from "./processing/processor";
import type { Readiness } from "./telemetry/http-server";
import { errorFields } from "./telemetry/logger";
import type { WriteHealth } from "./write-health";

/** The last error of the subscription's load-balancing loop: when, and what. */
export interface LoadBalancingError {
  at: number;
  detail: string;
}

/**
 * The subscription's handlers, remembering the errors outside any partition: those come from the load-balancing
 * loop, and while they last nothing is received.
 */
export function watchLoadBalancing(handlers: SubscriptionEventHandlers): {
  handlers: SubscriptionEventHandlers;
  lastError(): LoadBalancingError | undefined;
} {
  let last: LoadBalancingError | undefined;
  return {
    handlers: {
      ...handlers,
      processError: async (error: Error, context: PartitionContext) => {
        if (context.partitionId === "") {
          const fields = errorFields(error);
          last = { at: Date.now(), detail: `${fields.name}: ${fields.message}` };
        }
        await handlers.processError(error, context);
      },
    },
    lastError: () => last,
  };
}

/** Reachability of the checkpoint container, re-checked at most every few seconds. */
function cachedReachability(container: ContainerClient, ttlMs: number): () => Promise<boolean> {
  let checkedAt = 0;
  let reachable = false;
  let inFlight: Promise<boolean> | undefined;
  return async () => {
    if (Date.now() - checkedAt < ttlMs) return reachable;
    inFlight ??= container
      .exists({ abortSignal: AbortSignal.timeout(ttlMs) })
      .catch(() => false)
      .then((result) => {
        reachable = result;
        checkedAt = Date.now();
        inFlight = undefined;
        return result;
      });
    return inFlight;
  };
}

export interface ReadinessSources {
  /** The hub as messages name it: `event hub "<name>" at <namespace>`. */
  where: string;
  /** What the start-up access check found, if anything (startup-checks.ts). */
  accessAtStart: AccessProblem | undefined;
  subscription: Pick<Subscription, "isRunning">;
  ownership: Pick<OwnershipTracker, "lastListedAt">;
  loadBalancingError: () => LoadBalancingError | undefined;
  checkpointContainer: ContainerClient;
  processor: Pick<Processor, "unavailable" | "degraded">;
  /** The sink's and the dead-letter store's. */
  writes: readonly WriteHealth[];
  fleet: Pick<FleetMembership, "note"> | undefined;
}

/**
 * Ready while the subscription runs and receives (a load-balancing round has completed since its last error), the
 * checkpoint container answers, the processor can work and the writes succeed. A deployment down while others carry
 * the load, or a fleet that cannot coordinate, is a note: the worker stays ready.
 */
export function readinessRules(sources: ReadinessSources): () => Promise<Readiness> {
  const { where, accessAtStart, subscription, ownership, processor, fleet } = sources;
  const checkpointStoreReachable = cachedReachability(sources.checkpointContainer, 5000);
  return async () => {
    const reasons: string[] = [];
    if (!subscription.isRunning) reasons.push("subscription not running");
    const listedAt = ownership.lastListedAt;
    const subscriptionError = sources.loadBalancingError();
    if (subscriptionError && (listedAt === undefined || listedAt < subscriptionError.at)) {
      reasons.push(`cannot receive from ${where}: ${subscriptionError.detail}`);
    } else if (listedAt === undefined) {
      reasons.push(`not receiving yet: no load-balancing round has completed for ${where}${accessAtStart ? ` (at start: ${accessAtStart.detail})` : ""}`);
    }
    if (!(await checkpointStoreReachable())) reasons.push(`checkpoint container "${sources.checkpointContainer.containerName}" unreachable`);
    const processorProblem = processor.unavailable?.();
    if (processorProblem) reasons.push(processorProblem);
    for (const health of sources.writes) {
      const problem = health.problem();
      if (problem) reasons.push(problem);
    }
    const notes = [...(processor.degraded?.() ?? [])];
    const fleetNote = fleet?.note();
    if (fleetNote) notes.push(fleetNote);
    return { ready: reasons.length === 0, reasons, notes };
  };
}
