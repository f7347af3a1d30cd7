// What the quota benchmark compares the worker with: the two ways people usually call a model from an Event
// Hubs handler, run in the bench process (they are I/O-bound: the model's quota, not the CPU, is the limit).
// Both use the OpenAI SDK as shipped (2 retries that honour retry-after), checkpoint every batch, and log and
// skip an event whose call still fails, as a try/catch in a sample would.
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { BlobServiceClient } from "@azure/storage-blob";
import { AzureOpenAI } from "openai";
import type { LocalStack } from "../../emulator/index";

export type BaselineKind = "sdk-sample" | "naive-parallel";

export interface BaselineRun {
  /** Events whose call succeeded, and when (Date.now()), with the event's enqueued time. */
  results: Array<{ at: number; enqueuedAt: number }>;
  /** Events whose call still failed after the SDK's retries: skipped, never processed. */
  failed: number;
  stop(): Promise<void>;
}

export interface BaselineOptions {
  stack: LocalStack;
  hub: string;
  consumerGroup: string;
  modelEndpoint: string;
  deployment: string;
  systemPrompt: string;
  maxOutputTokens: number;
}

export async function startBaseline(kind: BaselineKind, options: BaselineOptions): Promise<BaselineRun> {
  const { stack } = options;
  const container = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(stack.checkpointContainer);
  const client = new EventHubConsumerClient(options.consumerGroup, stack.eventHubConnectionString, options.hub, new BlobCheckpointStore(container));
  const model = new AzureOpenAI({ endpoint: options.modelEndpoint, deployment: options.deployment, apiVersion: "2024-10-21", apiKey: "bench" });
  const run: BaselineRun = { results: [], failed: 0, stop: async () => undefined };

  const call = async (event: ReceivedEventData) => {
    // The SDK parses a JSON body into an object (the sample keeps that default).
    const body = event.body instanceof Uint8Array ? (JSON.parse(Buffer.from(event.body).toString("utf8")) as unknown) : event.body;
    const text = (body as { text: string }).text;
    try {
      await model.chat.completions.create({
        model: options.deployment,
        messages: [
          { role: "system", content: options.systemPrompt },
          { role: "user", content: text },
        ],
        max_completion_tokens: options.maxOutputTokens,
      });
      run.results.push({ at: Date.now(), enqueuedAt: event.enqueuedTimeUtc.getTime() });
    } catch {
      run.failed++;
    }
  };

  const subscription = client.subscribe(
    {
      processEvents: async (events, context) => {
        if (events.length === 0) return;
        if (kind === "sdk-sample") for (const event of events) await call(event);
        else await Promise.all(events.map(call));
        await context.updateCheckpoint(events.at(-1) as ReceivedEventData);
      },
      processError: async () => undefined,
    },
    // The sample keeps the SDK's defaults; the naive handler at least takes the worker's batch size.
    kind === "sdk-sample"
      ? { startPosition: earliestEventPosition }
      : { startPosition: earliestEventPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 1, prefetchCount: 300 },
  );
  run.stop = async () => {
    await subscription.close();
    await client.close();
  };
  return run;
}
