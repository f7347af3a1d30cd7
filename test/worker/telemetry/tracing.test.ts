// When the worker traces: decided once from the standard environment variables, never by default.
import { describe, expect, it } from "vitest";
import { startTracing, tracingBackend } from "../../../worker/telemetry/tracing";

describe("tracing configuration", () => {
  it("is off with no exporter configured, whatever other OTEL_* settings say", () => {
    expect(tracingBackend({})).toBeUndefined();
    expect(tracingBackend({ OTEL_SERVICE_NAME: "worker", OTEL_TRACES_SAMPLER: "always_on", OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBeUndefined();
  });

  it("follows the OTLP endpoints and the Application Insights connection string", () => {
    expect(tracingBackend({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("otlp");
    expect(tracingBackend({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe("otlp");
    expect(tracingBackend({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=00000000-0000-0000-0000-000000000000" })).toBe("azure-monitor");
    expect(tracingBackend({ APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("otlp+azure-monitor");
  });

  it("OTEL_SDK_DISABLED=true wins over any exporter", async () => {
    const env = { OTEL_SDK_DISABLED: "TRUE", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" };
    expect(tracingBackend(env)).toBeUndefined();
    await expect(startTracing("worker", env)).resolves.toBeUndefined();
  });
});
