import type { TokenCredential } from "@azure/core-auth";
import { getBearerTokenProvider } from "@azure/identity";
import { APIConnectionError, APIError, AzureOpenAI } from "openai";
import { eventText } from "./event-text";
import { PoisonEventError, ThrottledError, type EventInput, type Processor } from "./processor";
import { Semaphore } from "./semaphore";

export interface AzureOpenAIProcessorOptions {
  /** e.g. https://my-resource.openai.azure.com/ */
  endpoint: string;
  deployment: string;
  apiVersion: string;
  /** Exactly one of apiKey and credential (Entra ID). */
  apiKey?: string;
  credential?: TokenCredential;
  systemPrompt: string;
  /** Requests in flight at once; further events wait for a slot. */
  maxConcurrency: number;
  /** Per request. */
  timeoutMs: number;
}

export interface ChatResult {
  model: string;
  content: string | null;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number } | null;
  finishReason: string | null;
}

const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";

/**
 * Sends each event's text as the user message to an Azure OpenAI chat deployment. I/O-bound, so it runs on
 * the main loop, bounded by a semaphore. The SDK's own retries are off: the batch processor's withRetry owns
 * retries, so failures are classified here instead:
 * - 429: ThrottledError carrying the server's Retry-After (retry-after-ms or retry-after header);
 * - 400 (bad request, content filter) and 413/422: PoisonEventError, retrying the same text cannot help;
 * - everything else (5xx, timeouts, connection errors, 401/403/404 while a deployment is being fixed): transient.
 */
export class AzureOpenAIProcessor implements Processor {
  readonly name = "azure-openai";
  private readonly client: AzureOpenAI;
  private readonly slots: Semaphore;

  constructor(private readonly options: AzureOpenAIProcessorOptions) {
    if ((options.apiKey === undefined) === (options.credential === undefined)) {
      throw new Error("azure-openai needs exactly one of apiKey or credential (Entra ID)");
    }
    this.slots = new Semaphore(options.maxConcurrency);
    this.client = new AzureOpenAI({
      endpoint: options.endpoint,
      deployment: options.deployment,
      apiVersion: options.apiVersion,
      ...(options.apiKey !== undefined
        ? { apiKey: options.apiKey }
        : { azureADTokenProvider: getBearerTokenProvider(options.credential as TokenCredential, COGNITIVE_SERVICES_SCOPE) }),
      maxRetries: 0,
      timeout: options.timeoutMs,
    });
  }

  /** The signal only cancels the wait for a free slot; a request already sent runs to completion or timeout. */
  async process(input: EventInput, signal?: AbortSignal): Promise<ChatResult> {
    const text = eventText(input.body, this.name);
    return this.slots.run(() => this.complete(text), signal);
  }

  async close(): Promise<void> {
    // The client holds no connections of its own beyond fetch's keep-alive pool, which closes with the process.
  }

  private async complete(text: string): Promise<ChatResult> {
    try {
      const completion = await this.client.chat.completions.create({
        model: this.options.deployment,
        messages: [
          { role: "system", content: this.options.systemPrompt },
          { role: "user", content: text },
        ],
      });
      const choice = completion.choices[0];
      const usage = completion.usage;
      return {
        model: completion.model,
        content: choice?.message.content ?? null,
        usage: usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens } : null,
        finishReason: choice?.finish_reason ?? null,
      };
    } catch (error) {
      throw classify(error);
    }
  }
}

function classify(error: unknown): unknown {
  if (error instanceof APIConnectionError || !(error instanceof APIError)) return error;
  const status = error.status;
  if (status === 429) return new ThrottledError(`azure-openai throttled (429): ${error.message}`, retryAfterMs(error.headers));
  if (status === 400 || status === 413 || status === 422) {
    return new PoisonEventError(`azure-openai rejected the event (${status}${error.code ? ` ${error.code}` : ""}): ${error.message}`);
  }
  return error;
}

/** Azure sends retry-after-ms (milliseconds) and/or retry-after (seconds, or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const milliseconds = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const retryAfter = headers?.get("retry-after");
  if (retryAfter == null || retryAfter.trim() === "") return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
