// What the worker hands a sink or processor plugin at start-up, for tests that build one directly: real
// metrics, no tracing and a silent logger, plus the storage account a test gives. Anything else a plugin reaches for fails loudly.
import pino from "pino";
import { NO_TRACING } from "../../worker/observability";
import type { PluginRuntime } from "../../worker/plugins";
import { WorkerMetrics } from "../../worker/telemetry/metrics";

export function pluginRuntime(parts: Partial<Pick<PluginRuntime, "blobService">> = {}): PluginRuntime {
  return {
    credential: () => {
      throw new Error("this test gives the plugin no Entra ID credential");
    },
    get blobService() {
      if (!parts.blobService) throw new Error("this test gives the plugin no storage account");
      return parts.blobService;
    },
    metrics: new WorkerMetrics(),
    tracing: NO_TRACING,
    logger: pino({ level: "silent" }),
    shareQuotas: () => undefined, // one process, no fleet: each deployment paces on its own
  };
}
