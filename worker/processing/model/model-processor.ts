// The processor PROCESSOR=model|azure-openai|openai build (their settings are in model-settings.ts): one router over
// the deployments, each with its own governor and circuit breaker, wired to the worker's metrics and log, under a
// chat or embeddings processor.
import type { PluginRuntime } from "../../plugins";
import type { Processor } from "../processor";
import { ChatProcessor } from "./chat-processor";
import { EmbeddingsProcessor } from "./embeddings-processor";
import { ModelEndpoint, type DeploymentOptions } from "./model-endpoint";
import { ModelRouter } from "./model-router";
import type { ModelProcessorOptions } from "./model-settings";
import type { QuotaParticipant } from "../../fleet/fleet-coordinator";
import type { ModelTelemetry, Tracing } from "../../observability";

export interface ModelProcessorParts {
  processor: Processor;
  router: ModelRouter;
}

/** How the fleet sees one deployment of this process: its quota, its use, and the share it sets. */
function quotaParticipant(router: ModelRouter, endpoint: ModelEndpoint): QuotaParticipant {
  return {
    name: endpoint.name,
    quota: endpoint.quota,
    use: (withinMs) => {
      const { share } = endpoint.governor.snapshot();
      const { requestsPerMinute, tokensPerMinute } = endpoint.quota;
      const sent = endpoint.governor.usage();
      const asked = router.arrivals();
      return {
        ...sent,
        needRequestsPerSecond: Math.min(sent.requestsPerSecond, asked.requestsPerSecond),
        needTokensPerSecond: Math.min(sent.tokensPerSecond, asked.tokensPerSecond),
        ...endpoint.answerRates(),
        wanting: router.wanted(endpoint, withinMs),
        ...(share && requestsPerMinute !== undefined ? { shareRequestsPerSecond: share.requestsPerSecond } : {}),
        ...(share && tokensPerMinute !== undefined ? { shareTokensPerSecond: share.tokensPerSecond } : {}),
        ...(requestsPerMinute !== undefined ? { quotaRequestsPerSecond: requestsPerMinute / 60 } : {}),
        ...(tokensPerMinute !== undefined ? { quotaTokensPerSecond: tokensPerMinute / 60 } : {}),
        circuit: endpoint.breaker.current,
      };
    },
    setShare: (share) => endpoint.governor.setShare(share),
  };
}

/** A chat or embeddings processor over a router of the deployments. */
export function createModelProcessor(
  name: string,
  options: ModelProcessorOptions,
  extra: { telemetry?: ModelTelemetry; tracing?: Tracing; spilloverAfterMs?: number } = {},
): ModelProcessorParts {
  const { telemetry, tracing } = extra;
  const endpoints = options.deployments.map(
    (deployment) =>
      new ModelEndpoint({ ...deployment, timeoutMs: options.timeoutMs, governor: options.governor, ...(telemetry ? { telemetry } : {}), ...(tracing ? { tracing } : {}) }),
  );
  const router = new ModelRouter(endpoints, extra.spilloverAfterMs === undefined ? {} : { spilloverAfterMs: extra.spilloverAfterMs });
  const { task } = options;
  const processor = task.kind === "embeddings" ? new EmbeddingsProcessor(name, router, task) : new ChatProcessor(name, router, task);
  return { processor, router };
}

/**
 * The same, for the worker: Entra ID for Azure deployments without a key, metrics, spans, and one log line per
 * circuit change naming the deployment, what failed and what to check.
 */
export async function startModelProcessor(name: string, options: ModelProcessorOptions, { metrics, tracing, logger, credential, shareQuotas }: PluginRuntime): Promise<Processor> {
  const deployments = options.deployments.map((deployment): DeploymentOptions => {
    const { connection } = deployment;
    return connection.provider === "azure-openai" && connection.apiKey === undefined
      ? { ...deployment, connection: { ...connection, credential: credential() } }
      : deployment;
  });
  const { processor, router } = createModelProcessor(name, { ...options, deployments }, { telemetry: metrics.modelTelemetry, tracing });
  metrics.observeModel(router);
  shareQuotas(router.endpoints.map((endpoint) => quotaParticipant(router, endpoint)));
  for (const endpoint of router.endpoints) {
    endpoint.breaker.onChange((state) => {
      const others = router.endpoints.length > 1 ? "the other deployments carry the load" : "events wait (none are dead-lettered)";
      const message = {
        open: `model deployment "${endpoint.name}" circuit open after repeated failures (${endpoint.lastOutage ?? "outage"}); holding its requests, ${others}`,
        "half-open": `model deployment "${endpoint.name}" circuit half-open: probing it with one request`,
        closed: `model deployment "${endpoint.name}" circuit closed: it answers again`,
      }[state];
      logger[state === "closed" ? "info" : "warn"]({ deployment: endpoint.name, model: endpoint.model, circuit: state }, message);
    });
  }
  return processor;
}
