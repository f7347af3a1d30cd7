import type { TokenCredential } from "@azure/core-auth";
import { EventHubProducerClient, type EventDataBatch, type RetryOptions } from "@azure/event-hubs";
import { serializeResultRecord, type ResultRecord, type Sink } from "./sink";

export interface EventHubSinkOptions {
  /** Either a connection string (namespace-level or with EntityPath) or a namespace with a credential. */
  connectionString?: string;
  fullyQualifiedNamespace?: string;
  eventHubName: string;
  credential?: TokenCredential;
}

/**
 * One retry layer per kind of I/O: a sink write that fails is retried by the batch commit, which never gives
 * up (the partition waits) and logs and counts each try. The SDK's default (3 retries 30 s apart) would hide
 * up to 90 s of waiting inside one try of ours, so it makes one attempt, bounded by timeoutInMs: a send, or
 * the link setup before it, still unanswered after 30 s fails and is retried by the commit.
 */
export const SINK_PRODUCER_RETRY_OPTIONS: RetryOptions = { maxRetries: 0, timeoutInMs: 30_000 };

/**
 * Sends each record as a JSON event to a results hub. partitionKey = the source partition id, so all results
 * of one source partition land on one results partition and stay in order. Batches are filled up to the
 * hub's maxSizeInBytes and sent one after another, so the order within a write is kept too.
 */
export class EventHubSink implements Sink {
  private constructor(private readonly producer: EventHubProducerClient) {}

  static create(options: EventHubSinkOptions): EventHubSink {
    if (options.connectionString !== undefined) {
      return new EventHubSink(new EventHubProducerClient(options.connectionString, options.eventHubName, { retryOptions: SINK_PRODUCER_RETRY_OPTIONS }));
    }
    if (options.fullyQualifiedNamespace !== undefined && options.credential !== undefined) {
      return new EventHubSink(new EventHubProducerClient(options.fullyQualifiedNamespace, options.eventHubName, options.credential, { retryOptions: SINK_PRODUCER_RETRY_OPTIONS }));
    }
    throw new Error("eventhub sink needs a connectionString, or a fullyQualifiedNamespace with a credential");
  }

  async write(records: ResultRecord[]): Promise<void> {
    let batch: EventDataBatch | undefined;
    let batchKey: string | undefined;
    for (const record of records) {
      // The JSON bytes the SDK would produce for the record as an object, without re-serialising the result.
      const body = Buffer.from(serializeResultRecord(record), "utf8");
      const event = { body, contentType: "application/json", messageId: `${record.partitionId}-${record.sequenceNumber}` };
      if (batch !== undefined && batchKey === record.partitionId && batch.tryAdd(event)) continue;
      if (batch !== undefined && batch.count > 0) await this.producer.sendBatch(batch);
      batch = await this.producer.createBatch({ partitionKey: record.partitionId });
      batchKey = record.partitionId;
      if (!batch.tryAdd(event)) {
        throw new Error(
          `result of partition ${record.partitionId} sequence ${record.sequenceNumber} does not fit in one event (max ${batch.maxSizeInBytes} bytes)`,
        );
      }
    }
    if (batch !== undefined && batch.count > 0) await this.producer.sendBatch(batch);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
