// How a model API's answers map onto the worker's failure kinds (see failures.ts). The SDK's own
// retries are off: the batch pipeline owns retries, the rate governor owns pacing.
import { APIConnectionError, APIError } from "openai";
import { PoisonEventError, ThrottledError, TransientError } from "../../failures";
import type { QuotaHeaders, ThrottledKind } from "./rate-governor";

/** The model is up but refuses this one event (bad request, content filter, too large): dead-letter it. */
const EVENT_REJECTED = new Set([400, 413, 422]);

/**
 * - 429: ThrottledError with the service's wait;
 * - 400/413/422: PoisonEventError;
 * - anything else (5xx, 408, timeouts, connection errors, and 401/403/404 while a key or deployment is being
 *   fixed): TransientError, so the partition waits for the model instead of dead-lettering good events.
 */
export function classifyModelError(error: unknown, label: string): Error {
  if (error instanceof APIConnectionError) return new TransientError(`${label}: ${error.message}`, undefined, { cause: error });
  if (!(error instanceof APIError)) return error instanceof Error ? error : new Error(String(error));
  const status = error.status;
  if (status === 429) return new ThrottledError(`${label} throttled (429): ${error.message}`, retryAfterMs(error.headers));
  if (status !== undefined && EVENT_REJECTED.has(status)) {
    return new PoisonEventError(`${label} rejected the event (${status}${error.code ? ` ${error.code}` : ""}): ${error.message}`);
  }
  return Object.assign(new TransientError(`${label} failed (${status ?? "no status"})${whatToCheck(status)}: ${error.message}`, retryAfterMs(error.headers)), { status });
}

/** What an operator should check for a status that fails every request alike. */
function whatToCheck(status: number | undefined): string {
  if (status === 401 || status === 403) return " (check the key, or the identity's Cognitive Services OpenAI User role)";
  if (status === 404) return " (check the endpoint and the deployment or model name)";
  return "";
}

/** An outage failure in a few words, with what to check: for the circuit's log line and readiness. */
export function outageHint(error: unknown): string {
  if (error instanceof APIConnectionError) return `no connection: ${error.message}`;
  if (error instanceof APIError) return `${error.status ?? "no status"}${whatToCheck(error.status)}`;
  return error instanceof Error ? error.message : String(error);
}

/** Which limit a 429 hit: the tokens one when the service says so or has no tokens left, else requests. */
export function throttledKind(error: unknown): ThrottledKind {
  if (!(error instanceof APIError)) return "requests";
  const remainingTokens = numberHeader(error.headers, "x-ratelimit-remaining-tokens");
  return /token/i.test(error.message) || remainingTokens === 0 ? "tokens" : "requests";
}

export function quotaHeaders(headers: Headers | undefined): QuotaHeaders {
  const quota: QuotaHeaders = {};
  const requests = numberHeader(headers, "x-ratelimit-remaining-requests");
  const tokens = numberHeader(headers, "x-ratelimit-remaining-tokens");
  if (requests !== undefined) quota.remainingRequests = requests;
  if (tokens !== undefined) quota.remainingTokens = tokens;
  return quota;
}

function numberHeader(headers: Headers | undefined, name: string): number | undefined {
  const raw = headers?.get(name);
  if (raw == null || raw.trim() === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined; // Azure sends -1 where it has no figure
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
