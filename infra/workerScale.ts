import type { ModelConfig } from "./modelConfig";
import { deploymentQuota, isProvisioned } from "./openaiQuota";

/**
 * Requests per second one worker replica keeps a remote model busy with. Source: bench/results/quota.md
 * (2026-12-07, `npm run bench:quota -- --runs 3`), "worker, 1 process" at the generous quota: 96.1% of
 * 100 requests/s with ~300 ms per answer. The quota was the limit there, and in the fleet scenarios every
 * replica count (2, 4, 8) stayed quota-bound at 0.93-0.95, so this is what one replica is known to reach, not
 * its ceiling.
 */
export const REPLICA_REQUESTS_PER_SECOND = 95;

export interface WorkerScaleArgs {
  partitionCount: number;
  minReplicas: number;
  /** workerMaxReplicas: 0 chooses automatically. */
  maxReplicas: number;
  model: ModelConfig | undefined;
}

export interface WorkerScale {
  /** KEDA's maxReplicas for the app. */
  maxReplicas: number;
  /** Replicas the model's quota keeps busy; undefined without a model, or when a deployment's rate is not known. */
  quotaReplicas: number | undefined;
  /** For `pulumi preview` to show (pulumi.log.warn). */
  warnings: string[];
}

/**
 * The hosted worker's replica ceiling. Without a model it is the partition count (a replica beyond it would own
 * no partition). With a remote model whose request rates are all known:
 *   quota requests/s = sum over deployments of requestsPerMinute / 60
 *   quotaReplicas    = min(partitionCount, max(1, ceil(quota requests/s / REPLICA_REQUESTS_PER_SECOND)))
 * RPM is the most requests a deployment admits; its TPM can only lower that, so this never starves the quota.
 * workerMaxReplicas, when set, wins (validation keeps it within the partitions and above workerMinReplicas).
 */
export function workerScale({ partitionCount, minReplicas, maxReplicas, model }: WorkerScaleArgs): WorkerScale {
  const warnings: string[] = [];
  const rates = [
    ...(model?.deployments ?? []).map((d) => {
      const quota = deploymentQuota(d.model, d.sku, d.capacity);
      if (quota === undefined && !isProvisioned(d.sku)) {
        warnings.push(
          `model.deployments "${d.name}": ${d.model} is not in the stack's quota table (infra/openaiQuota.ts), so the worker gets no requestsPerMinute or tokensPerMinute for it and learns its limit from the 429s; add the model's rate per unit there from Microsoft's quota page`,
        );
      }
      return { name: d.name, requestsPerMinute: quota?.requestsPerMinute };
    }),
    ...(model?.existing ?? []).map((e) => ({ name: e.name, requestsPerMinute: e.requestsPerMinute })),
  ];
  const unknown = rates.filter((r) => r.requestsPerMinute === undefined).map((r) => r.name);
  const requestsPerSecond = rates.reduce((sum, r) => sum + (r.requestsPerMinute ?? 0), 0) / 60;
  const quotaReplicas =
    model === undefined || unknown.length > 0
      ? undefined
      : Math.min(partitionCount, Math.max(1, Math.ceil(requestsPerSecond / REPLICA_REQUESTS_PER_SECOND)));
  if (model !== undefined && unknown.length > 0 && maxReplicas === 0) {
    warnings.push(
      `the model's quota does not cap the worker's replicas: ${unknown.join(", ")} ${unknown.length === 1 ? "has" : "have"} no known requests per minute (provisioned, or not in the quota table), so maxReplicas stays at partitionCount (${partitionCount}); set workerMaxReplicas to choose`,
    );
  }

  const fed = quotaReplicas ?? partitionCount;
  const perReplica = `${REPLICA_REQUESTS_PER_SECOND} requests/s per replica`;
  if (maxReplicas > 0) {
    if (quotaReplicas !== undefined && maxReplicas > quotaReplicas) {
      warnings.push(
        `workerMaxReplicas ${maxReplicas} is more than the ${quotaReplicas} replica(s) the model's quota keeps busy (${formatRate(requestsPerSecond)} requests/s in all, ${perReplica}): the others would wait on the quota`,
      );
    }
    return { maxReplicas, quotaReplicas, warnings };
  }
  if (quotaReplicas !== undefined && minReplicas > quotaReplicas) {
    warnings.push(
      `workerMinReplicas ${minReplicas} keeps more replicas running than the ${quotaReplicas} the model's quota keeps busy (${formatRate(requestsPerSecond)} requests/s in all, ${perReplica}); maxReplicas is ${minReplicas}`,
    );
  }
  return { maxReplicas: Math.max(fed, minReplicas), quotaReplicas, warnings };
}

function formatRate(perSecond: number): string {
  return Number.isInteger(perSecond) ? String(perSecond) : perSecond.toFixed(1);
}
