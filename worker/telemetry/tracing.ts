// OpenTelemetry tracing, configured only by the standard environment variables. Decided once at start-up: with no
// OTLP endpoint and no Application Insights connection string (or OTEL_SDK_DISABLED=true) nothing is loaded and
// the worker runs with NO_TRACING (observability.ts), never touching the OpenTelemetry API. The SDK, the OTLP exporter
// and the Azure Monitor distro are imported only when configured, so the default worker does not pay their start-up
// cost.
import { setTimeout as sleep } from "node:timers/promises";
import type { Meter } from "@opentelemetry/api";
import * as coreTracing from "@azure/core-tracing";
import type { Tracing } from "../observability";
import { OpenTelemetryTracing } from "./spans";

export type TracingBackend = "otlp" | "azure-monitor" | "otlp+azure-monitor";

/** An unreachable collector must not eat the shutdown deadline: what is not exported by then is dropped. */
const SHUTDOWN_LIMIT_MS = 5000;

/** What startTracing started: the spans and the meter for the worker's wiring, and the way to stop exporting. */
export interface TracingExport {
  readonly backend: TracingBackend;
  /** The worker's spans, exported to the backend. */
  readonly tracing: Tracing;
  /** Where the worker's Prometheus metrics are sent too (Azure Monitor), if anywhere. */
  readonly meter: Meter | undefined;
  /** Exports what is buffered (for at most 5 s) and stops; never throws. */
  shutdown(): Promise<void>;
}

const set = (value: string | undefined) => value !== undefined && value.trim() !== "";

/** Which exporters the environment asks for, or undefined when tracing stays off. */
export function tracingBackend(env: NodeJS.ProcessEnv): TracingBackend | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const otlp = set(env.OTEL_EXPORTER_OTLP_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const azureMonitor = set(env.APPLICATIONINSIGHTS_CONNECTION_STRING);
  if (otlp && azureMonitor) return "otlp+azure-monitor";
  if (azureMonitor) return "azure-monitor";
  return otlp ? "otlp" : undefined;
}

/**
 * Registers the tracer provider (W3C trace context, async-hooks context) and points the Azure SDK's tracing at
 * it, so the SDK's own spans (send, process, blob and HTTP calls) join the worker's traces. Returns undefined,
 * having loaded nothing, when tracing is off. Call it before the first span; Azure clients may exist already.
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<TracingExport | undefined> {
  const backend = tracingBackend(env);
  if (!backend) return undefined;
  const { metrics, trace } = await import("@opentelemetry/api");
  const { detectResources, envDetector, resourceFromAttributes } = await import("@opentelemetry/resources");
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default name.
  const resource = resourceFromAttributes({ "service.name": serviceName }).merge(detectResources({ detectors: [envDetector] }));
  const otlpProcessors = async () => {
    if (backend === "azure-monitor") return [];
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-node");
    return [new BatchSpanProcessor(new OTLPTraceExporter())]; // endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*
  };

  let shutdown: () => Promise<void>;
  let meter: Meter | undefined;
  if (backend === "otlp") {
    const { NodeTracerProvider } = await import("@opentelemetry/sdk-trace-node");
    // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default: parent-based, always on).
    const provider = new NodeTracerProvider({ resource, spanProcessors: await otlpProcessors() });
    provider.register();
    shutdown = () => provider.shutdown();
  } else {
    // Microsoft's distro: traces and its standard metrics to APPLICATIONINSIGHTS_CONNECTION_STRING, plus OTLP if set.
    const { useAzureMonitor, shutdownAzureMonitor } = await import("@azure/monitor-opentelemetry");
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING },
      resource,
      spanProcessors: await otlpProcessors(),
      instrumentationOptions: { azureSdk: { enabled: true }, http: { enabled: false } },
    });
    shutdown = () => shutdownAzureMonitor();
    meter = metrics.getMeter("eventhubs-ai-worker");
  }
  await useOpenTelemetryInAzureSdk();
  return {
    backend,
    tracing: new OpenTelemetryTracing(trace.getTracer("eventhubs-ai-worker")),
    meter,
    shutdown: async () => {
      await Promise.race([shutdown().catch(() => undefined), sleep(SHUTDOWN_LIMIT_MS, undefined, { ref: false })]);
    },
  };
}

/**
 * The instrumentation package hooks `require` to patch @azure/core-tracing when it loads; here the Event Hubs
 * configuration parser has loaded it already, so its patch is applied to the loaded module directly.
 */
async function useOpenTelemetryInAzureSdk(): Promise<void> {
  const { AzureSdkInstrumentation } = await import("@azure/opentelemetry-instrumentation-azure-sdk");
  const definitions = new AzureSdkInstrumentation({ enabled: false }).getModuleDefinitions();
  for (const definition of definitions) definition.patch?.(coreTracing);
}
