// One model deployment as the router sees it: the OpenAI SDK client, this process's rate governor for it and its
// circuit breaker, with every answer mapped onto the worker's failure kinds and counted under the deployment's
// name. The router (model-router.ts) decides which deployment a request goes to; this sends it there.
import type { TokenCredential } from "@azure/core-auth";
import { getBearerTokenProvider } from "@azure/identity";
import { APIConnectionError, APIError, AzureOpenAI, OpenAI } from "openai";
import { NO_TRACING, type ModelCallScope, type ModelTelemetry, type Tracing } from "../../observability";
import { CircuitBreaker, type CircuitStateName } from "./circuit-breaker";
import { classifyModelError, outageHint, quotaHeaders, retryAfterMs, throttledKind } from "./model-failures";
import { RateGovernor, type GovernorSnapshot, type Permit, type RateGovernorOptions } from "./rate-governor";

/** Where the model is: Azure OpenAI (key or Entra ID), or any OpenAI-compatible base URL (OpenAI, Ollama, vLLM, ...). */
export type ModelConnection =
  | { provider: "azure-openai"; endpoint: string; deployment: string; apiVersion: string; apiKey?: string; credential?: TokenCredential }
  | { provider: "openai"; baseUrl: string; model: string; apiKey?: string };

/** The deployment's quota, for the whole fleet of workers calling it. */
export interface DeploymentQuota {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** One deployment of MODEL_DEPLOYMENTS (or of the single-deployment settings), ready to connect. */
export interface DeploymentOptions {
  name: string;
  connection: ModelConnection;
  priority: number;
  weight: number;
  quota: DeploymentQuota;
}

export interface ModelEndpointOptions extends DeploymentOptions {
  timeoutMs: number;
  governor: Omit<RateGovernorOptions, "now">;
  telemetry?: ModelTelemetry;
  tracing?: Tracing;
  now?: () => number;
}

export interface EndpointSnapshot extends GovernorSnapshot {
  name: string;
  priority: number;
  circuit: CircuitStateName;
}

const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";

/**
 * What opens the circuit: the deployment failing for everyone (5xx, timeouts, connection errors, and 401/403/404,
 * which fail every request alike). Not 429 (the governor paces that) nor a rejection of one event.
 */
function isOutage(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && error.status !== 429 && error.status !== 400 && error.status !== 413 && error.status !== 422;
}

export class ModelEndpoint {
  readonly name: string;
  readonly priority: number;
  readonly weight: number;
  readonly quota: DeploymentQuota;
  readonly client: OpenAI;
  /** The model (OpenAI) or deployment (Azure) name sent with each request. */
  readonly model: string;
  readonly governor: RateGovernor;
  readonly breaker: CircuitBreaker;
  /** What the last outage failure was, with what to check: for the circuit's log line and readiness. */
  lastOutage: string | undefined;
  /** When recent answers came, accepted or throttled, for the per-second rates the fleet records show. */
  private readonly answers: Array<[at: number, accepted: boolean]> = [];
  private readonly now: () => number;
  private readonly traceScope: ModelCallScope;

  constructor(private readonly options: ModelEndpointOptions) {
    const { connection, timeoutMs } = options;
    this.name = options.name;
    this.priority = options.priority;
    this.weight = options.weight;
    this.quota = options.quota;
    if (connection.provider === "azure-openai") {
      if ((connection.apiKey === undefined) === (connection.credential === undefined)) {
        throw new Error(`deployment "${options.name}": azure-openai needs exactly one of apiKey or credential (Entra ID)`);
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
    } else {
      // Local servers (Ollama, vLLM, llama.cpp) take any key; the SDK insists on one.
      this.client = new OpenAI({ baseURL: connection.baseUrl, apiKey: connection.apiKey ?? "no-key", maxRetries: 0, timeout: timeoutMs });
      this.model = connection.model;
    }
    const now = options.now ?? (() => performance.now());
    this.now = now;
    this.traceScope = {
      system: connection.provider === "azure-openai" ? "az.ai.openai" : "openai",
      model: this.model,
      deployment: this.name,
      serverAddress: new URL(this.client.baseURL).hostname,
    };
    this.governor = new RateGovernor({ ...options.governor, now });
    this.breaker = new CircuitBreaker(now);
  }

  /** 0 when a request costing `cost` tokens may go here now; a wait in ms; undefined while every slot is taken. */
  waitMs(cost: number): number | undefined {
    const circuit = this.breaker.waitMs();
    if (circuit > 0) return circuit;
    return this.governor.waitMs(cost);
  }

  /** Whether requests flow here now (closed circuit), as opposed to held (open) or probing (half-open). */
  get isAvailable(): boolean {
    return this.breaker.current === "closed";
  }

  /** Takes the slot and pace for one request, sent at once with `send`. */
  admit(cost: number): Permit {
    this.breaker.sending();
    return this.governor.admit(cost);
  }

  /**
   * Sends one admitted request; resolves with the SDK's data, or rejects with a classified failure
   * (PoisonEventError, ThrottledError, TransientError, ...), having told the governor and the breaker.
   */
  async send<T>(permit: Permit, partitionId: string, operation: "chat" | "embeddings", send: () => Promise<{ data: T; response: Response }>): Promise<T> {
    const { telemetry, tracing = NO_TRACING } = this.options;
    return tracing.traceModelCall(this.traceScope, operation, async () => {
      const started = performance.now();
      try {
        const { data, response } = await send();
        permit.succeeded(performance.now() - started, quotaHeaders(response.headers));
        this.breaker.succeeded();
        this.answered(true);
        telemetry?.request(partitionId, this.name, "ok");
        return data;
      } catch (error) {
        if (error instanceof APIError && error.status === 429) {
          permit.throttled(throttledKind(error), retryAfterMs(error.headers));
          this.breaker.succeeded(); // it answered: the deployment is up, only full
          this.answered(false);
          telemetry?.request(partitionId, this.name, "throttled");
        } else {
          permit.released();
          if (isOutage(error)) {
            this.lastOutage = outageHint(error);
            this.breaker.failed(error);
          } else if (error instanceof APIError) {
            this.breaker.succeeded();
          } else {
            this.breaker.released();
          }
          const rejected = error instanceof APIError && error.status !== undefined && error.status < 500 && error.status !== 408 && !isOutage(error);
          telemetry?.request(partitionId, this.name, rejected ? "rejected" : "failed");
        }
        throw classifyModelError(error, `deployment "${this.name}"`);
      }
    });
  }

  /** Answers over the last second, per second: accepted (200) and throttled (429). */
  answerRates(): { acceptedPerSecond: number; throttledPerSecond: number } {
    const since = this.now() - 1000;
    let accepted = 0;
    let throttled = 0;
    for (const [at, ok] of this.answers) if (at >= since) ok ? accepted++ : throttled++;
    return { acceptedPerSecond: accepted, throttledPerSecond: throttled };
  }

  private answered(accepted: boolean): void {
    const now = this.now();
    this.answers.push([now, accepted]);
    while ((this.answers[0]?.[0] ?? now) < now - 1000) this.answers.shift();
  }

  recordTokens(partitionId: string, prompt: number, completion: number): void {
    this.options.telemetry?.tokens(partitionId, this.name, prompt, completion);
  }

  snapshot(): EndpointSnapshot {
    return { ...this.governor.snapshot(), name: this.name, priority: this.priority, circuit: this.breaker.current };
  }
}
