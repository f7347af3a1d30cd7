import type { TokenCredential } from "@azure/core-auth";
import { EventHubProducerClient, type RetryOptions } from "@azure/event-hubs";
import { defineSink } from "../plugins";
import { entityName, eventHubConnectionString, hostName } from "../settings/values";
import { sendBatches } from "../../common/send-batches";
import { runsByPartition, serializeResultRecord, writeInParts, type ResultRecord, type Sink } from "./sink";

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
    await writeInParts(async (durable) => {
      for (const run of runsByPartition(records)) {
        // The JSON bytes the SDK would produce for the record as an object, without re-serialising the result;
        // the messageId names the result's source event, so a result too large to send is named by it.
        const events = run.map((record) => ({
          body: Buffer.from(serializeResultRecord(record), "utf8"),
          contentType: "application/json",
          messageId: `${record.partitionId}-${record.sequenceNumber}`,
        }));
        let stored = 0;
        await sendBatches(this.producer, events, {
          partitionKey: run[0]!.partitionId,
          onBatchSent: (sent) => {
            durable(run.slice(stored, sent));
            stored = sent;
          },
        });
      }
    });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

const GROUP = "Result sink (SINK=eventhub):";

/** SINK=eventhub: each result as a JSON event on a results hub. */
export const eventHubSink = defineSink({
  name: "eventhub",
  settings: {
    SINK_EVENTHUB_CONNECTION_STRING: { group: GROUP, value: eventHubConnectionString, secret: true,
      help: "results hub connection string (Send rights); or SINK_EVENTHUB_NAMESPACE" },
    SINK_EVENTHUB_NAMESPACE: { group: GROUP, value: hostName, help: "results hub namespace, used with DefaultAzureCredential" },
    SINK_EVENTHUB_NAME: { group: GROUP, value: entityName, help: "results hub name (optional with EntityPath, then it must match)" },
  },
  missing(raw) {
    const problems: Array<[string, string]> = [];
    const hasEntityPath = /(^|;)\s*EntityPath=/i.test(raw.SINK_EVENTHUB_CONNECTION_STRING ?? "");
    if (raw.SINK_EVENTHUB_CONNECTION_STRING === undefined && raw.SINK_EVENTHUB_NAMESPACE === undefined)
      problems.push(["SINK_EVENTHUB_CONNECTION_STRING", "required when SINK=eventhub (or SINK_EVENTHUB_NAMESPACE)"]);
    if (raw.SINK_EVENTHUB_CONNECTION_STRING !== undefined && raw.SINK_EVENTHUB_NAMESPACE !== undefined)
      problems.push(["SINK_EVENTHUB_NAMESPACE", "set only one of SINK_EVENTHUB_CONNECTION_STRING and SINK_EVENTHUB_NAMESPACE"]);
    if (raw.SINK_EVENTHUB_NAME === undefined && !hasEntityPath)
      problems.push(["SINK_EVENTHUB_NAME", "required when SINK=eventhub unless the connection string has EntityPath"]);
    return problems;
  },
  conflicts(values) {
    const entityPath = values.SINK_EVENTHUB_CONNECTION_STRING?.entityPath;
    return values.SINK_EVENTHUB_NAME && entityPath && values.SINK_EVENTHUB_NAME !== entityPath
      ? [["SINK_EVENTHUB_NAME", `must match the connection string's EntityPath "${entityPath}"`]]
      : [];
  },
  options: (values): Omit<EventHubSinkOptions, "credential"> => ({
    ...(values.SINK_EVENTHUB_CONNECTION_STRING
      ? { connectionString: values.SINK_EVENTHUB_CONNECTION_STRING.raw }
      : { fullyQualifiedNamespace: values.SINK_EVENTHUB_NAMESPACE }),
    eventHubName: values.SINK_EVENTHUB_NAME ?? values.SINK_EVENTHUB_CONNECTION_STRING?.entityPath ?? "",
  }),
  create: async (options, { credential }) =>
    EventHubSink.create(options.connectionString ? options : { ...options, credential: credential() }),
});
