// One model deployment as the processors see it: the OpenAI SDK client, the process-wide rate governor and a
// circuit breaker, with every answer mapped onto the worker's failure kinds and counted in the metrics.
import type { TokenCredential } from "@azure/core-auth";
import { getBearerTokenProvider } from "@azure/identity";
import { circuitBreaker, CircuitState, ConsecutiveBreaker, ExponentialBackoff, handleWhen, isBrokenCircuitError, type CircuitBreakerPolicy } from "cockatiel";
import { APIConnectionError, APIError, AzureOpenAI, OpenAI } from "openai";
import { traceModelCall, type ModelCallScope } from "../../telemetry/spans";
import { TransientError } from "../processor";
import { classifyModelError, quotaHeaders, retryAfterMs, throttledKind } from "./model-failures";
import { RateGovernor, type GovernorSnapshot, type RateGovernorOptions } from "./rate-governor";

/** Where the model is: Azure OpenAI (key or Entra ID), or any OpenAI-compatible base URL (OpenAI, Ollama, vLLM, ...). */
export type ModelConnection =
  | { provider: "azure-openai"; endpoint: string; deployment: string; apiVersion: string; apiKey?: string; credential?: TokenCredential }
  | { provider: "openai"; baseUrl: string; model: string; apiKey?: string };

export interface ModelEndpointOptions {
  connection: ModelConnection;
  timeoutMs: number;
  governor: Omit<RateGovernorOptions, "now">;
  telemetry?: ModelTelemetry;
}

/** What the endpoint reports; the worker's Prometheus metrics implement it. */
export interface ModelTelemetry {
  request(partitionId: string, outcome: "ok" | "throttled" | "rejected" | "failed" | "circuit-open"): void;
  tokens(partitionId: string, prompt: number, completion: number): void;
}

export type CircuitStateName = "closed" | "open" | "half-open";

const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";
/** Consecutive outage failures (5xx, timeouts, connection errors) that open the circuit. */
const BREAKER_FAILURES = 5;

/**
 * What opens the circuit: the service failing for everyone (5xx, timeouts, connection errors, and 401/403/404,
 * which fail every request alike). Not 429 (the governor paces that) nor a rejection of one event.
 */
function isOutage(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && error.status !== 429 && error.status !== 400 && error.status !== 413 && error.status !== 422;
}

export class ModelEndpoint {
  readonly client: OpenAI;
  /** The model (OpenAI) or deployment (Azure) name sent with each request. */
  readonly model: string;
  readonly label: string;
  private readonly governor: RateGovernor;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly traceScope: ModelCallScope;

  constructor(private readonly options: ModelEndpointOptions) {
    const { connection, timeoutMs } = options;
    if (connection.provider === "azure-openai") {
      if ((connection.apiKey === undefined) === (connection.credential === undefined)) {
        throw new Error("azure-openai needs exactly one of apiKey or credential (Entra ID)");
      }
      this.client = new AzureOpenAI({
        endpoint: connection.endpoint,
        deployment: connection.deployment,
        apiVersion: connection.apiVersion,
        ...(connection.apiKey !== undefined
          ? { apiKey: connection.apiKey }
          : { azureADTokenProvider: getBearerTokenProvider(connection.credential as TokenCredential, COGNITIVE_SERVICES_SCOPE) }),
        maxRetries: 0,
        timeout: timeoutMs,
      });
      this.model = connection.deployment;
      this.label = "azure-openai";
    } else {
      // Local servers (Ollama, vLLM, llama.cpp) take any key; the SDK insists on one.
      this.client = new OpenAI({ baseURL: connection.baseUrl, apiKey: connection.apiKey ?? "no-key", maxRetries: 0, timeout: timeoutMs });
      this.model = connection.model;
      this.label = "openai";
    }
    this.traceScope = { system: this.label === "azure-openai" ? "az.ai.openai" : "openai", model: this.model, serverAddress: new URL(this.client.baseURL).hostname };
    this.governor = new RateGovernor(options.governor);
    this.breaker = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000, maxDelay: 30_000 }),
      breaker: new ConsecutiveBreaker(BREAKER_FAILURES),
    });
  }

  /**
   * Sends one request once the governor admits it and the circuit is closed; resolves with the SDK's data and
   * response, or rejects with a classified failure (PoisonEventError, ThrottledError, TransientError, ...).
   */
  call<T>(
    partitionId: string,
    estimatedTokens: number,
    signal: AbortSignal | undefined,
    send: () => Promise<{ data: T; response: Response }>,
    operation: "chat" | "embeddings",
  ): Promise<T> {
    return traceModelCall(this.traceScope, operation, () => this.admitAndSend(partitionId, estimatedTokens, signal, send));
  }

  private async admitAndSend<T>(
    partitionId: string,
    estimatedTokens: number,
    signal: AbortSignal | undefined,
    send: () => Promise<{ data: T; response: Response }>,
  ): Promise<T> {
    try {
      return await this.breaker.execute(async () => {
        const permit = await this.governor.acquire(estimatedTokens, signal);
        const started = performance.now();
        try {
          const { data, response } = await send();
          permit.succeeded(performance.now() - started, quotaHeaders(response.headers));
          this.options.telemetry?.request(partitionId, "ok");
          return data;
        } catch (error) {
          if (error instanceof APIError && error.status === 429) {
            permit.throttled(throttledKind(error), retryAfterMs(error.headers));
            this.options.telemetry?.request(partitionId, "throttled");
          } else {
            permit.released();
            const rejected = error instanceof APIError && error.status !== undefined && error.status < 500 && error.status !== 408;
            this.options.telemetry?.request(partitionId, rejected ? "rejected" : "failed");
          }
          throw error;
        }
      });
    } catch (error) {
      if (isBrokenCircuitError(error)) {
        this.options.telemetry?.request(partitionId, "circuit-open");
        throw new TransientError(`${this.label}: circuit open after repeated failures of the model; request held, not sent`);
      }
      throw classifyModelError(error, this.label);
    }
  }

  recordTokens(partitionId: string, prompt: number, completion: number): void {
    this.options.telemetry?.tokens(partitionId, prompt, completion);
  }

  snapshot(): GovernorSnapshot & { waitedMs: number; circuit: CircuitStateName } {
    const circuit: CircuitStateName =
      this.breaker.state === CircuitState.Closed ? "closed" : this.breaker.state === CircuitState.HalfOpen ? "half-open" : "open";
    return { ...this.governor.snapshot(), waitedMs: this.governor.waitedMs, circuit };
  }

  /** Calls a listener on every change of the circuit's state (for logs). */
  /** Why requests are held, while the circuit is not closed. */
  unavailable(): string | undefined {
    return this.breaker.state === CircuitState.Closed ? undefined : `model "${this.model}" unavailable: circuit open, events wait`;
  }

  onCircuitChange(listener: (state: CircuitStateName) => void): void {
    this.breaker.onBreak(() => listener("open"));
    this.breaker.onHalfOpen(() => listener("half-open"));
    this.breaker.onReset(() => listener("closed"));
  }

  close(): void {
    this.governor.close();
  }
}
