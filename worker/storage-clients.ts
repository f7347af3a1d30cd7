// The worker's storage client: checkpoints, ownership records, dead letters and the blob sink all use it.
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, newPipeline, type RequestPolicyFactory, type StorageRetryOptions } from "@azure/storage-blob";

/**
 * One retry layer per kind of I/O, and for storage it is the worker's own, because only it knows what a
 * failure means for a partition: a sink or dead-letter write is retried by the batch commit (withRetry, then
 * the partition pauses and commits again; it never gives up and redoes only the part that failed), a
 * checkpoint by the checkpointer and its schedule, an ownership claim by the SDK's load-balancing loop every
 * update interval. The SDK's default policy (4 tries, waiting 0, 4 and 12 s between them) would
 * multiply those tries and hide the waits from our logs, metrics and shutdown, so it makes exactly one try.
 * The start-up container checks are retried by the worker too (consumer.ts), with its backoff.
 * tryTimeoutInMs becomes the service's server-side timeout: an operation still running after 30 s (a 4 MiB
 * append block fits at about 1 Mbit/s) ends with 500 OperationTimedOut, which our layer retries. It does not
 * bound a connection that never answers (a socket silently dropped by a NAT or a load balancer): that is
 * STORAGE_REQUEST_TIMEOUT_MS's job.
 */
const SERVER_TIMEOUT_MS = 30_000;
export const STORAGE_RETRY_OPTIONS: StorageRetryOptions = { maxTries: 1, tryTimeoutInMs: SERVER_TIMEOUT_MS };

/**
 * Client side, the longest one storage request may take before it is abandoned (an AbortError, which every
 * storage caller retries like any outage). Twice the server-side timeout, so a slow service answers first.
 */
export const STORAGE_REQUEST_TIMEOUT_MS = 2 * SERVER_TIMEOUT_MS;

export interface StorageAccountSettings {
  /** Exactly one of the two is set. */
  connectionString?: string;
  accountUrl?: string;
}

/** The credential is asked for only when the settings have no connection string. */
export function createBlobService(
  storage: StorageAccountSettings,
  credential: () => TokenCredential,
  requestTimeoutMs = STORAGE_REQUEST_TIMEOUT_MS,
): BlobServiceClient {
  // The SDK reads the connection string (account key or SAS, endpoints); its URL and credential then go into
  // a pipeline of our own, which the SDK's options cannot give a client-side timeout.
  const parsed = storage.connectionString ? BlobServiceClient.fromConnectionString(storage.connectionString) : undefined;
  const pipeline = newPipeline(parsed?.credential ?? credential(), { retryOptions: STORAGE_RETRY_OPTIONS });
  pipeline.factories.push(requestTimeout(requestTimeoutMs));
  return new BlobServiceClient(parsed?.url ?? storage.accountUrl ?? "", pipeline);
}

/** Gives every request without a timeout of its own this one. */
function requestTimeout(timeoutMs: number): RequestPolicyFactory {
  return {
    create: (next) => ({
      sendRequest: (request) => {
        request.timeout ||= timeoutMs;
        return next.sendRequest(request);
      },
    }),
  };
}
