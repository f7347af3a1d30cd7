// The worker's storage client: checkpoints, ownership records, dead letters and the blob sink all use it.
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, type StorageRetryOptions } from "@azure/storage-blob";

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
 * bound a connection that never answers; the SDK has no client-side timeout for that.
 */
export const STORAGE_RETRY_OPTIONS: StorageRetryOptions = { maxTries: 1, tryTimeoutInMs: 30_000 };

export interface StorageAccountSettings {
  /** Exactly one of the two is set. */
  connectionString?: string;
  accountUrl?: string;
}

/** The credential is asked for only when the settings have no connection string. */
export function createBlobService(storage: StorageAccountSettings, credential: () => TokenCredential): BlobServiceClient {
  const options = { retryOptions: STORAGE_RETRY_OPTIONS };
  return storage.connectionString
    ? BlobServiceClient.fromConnectionString(storage.connectionString, options)
    : new BlobServiceClient(storage.accountUrl ?? "", credential(), options);
}
