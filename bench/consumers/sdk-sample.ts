// Configuration 3, the pattern of the official SDK sample (receiveEventsUsingCheckpointStore): a
// BlobCheckpointStore, the work done inline in processEvents (here the same text-insights analysis the
// worker runs, but on the main thread), and a checkpoint after every batch. SDK defaults otherwise
// (maxBatchSize 1, 60 s max wait, prefetch 3 x batch), except two settings without which there is
// nothing to measure: start at the earliest event (the default, latest, skips the backlog) and greedy
// load balancing (the default, balanced, claims one partition per 10 s, so the first 30 s would measure
// the ramp instead of the pattern). Child process of `npm run bench`; result lines go to stdout.
import { z } from "zod";
import { EventHubConsumerClient, type ReceivedEventData } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { ContainerClient } from "@azure/storage-blob";
import { analyzeText } from "../../worker/processing/text-insights";
import { RunWindow, backlogSubscribeOptions, hubSettings, logSubscriptionError, readChildSettings, reportSummary } from "./child-protocol";

/** The SDK parses JSON bodies by default; a body it could not parse arrives as bytes. */
function textOf(event: ReceivedEventData): string {
  const body: unknown = Buffer.isBuffer(event.body) ? JSON.parse(event.body.toString("utf8")) : event.body;
  const text = (body as { text?: unknown } | null)?.text;
  if (typeof text !== "string") throw new Error(`event ${event.sequenceNumber} has no text`);
  return text;
}

async function main(): Promise<void> {
  const settings = readChildSettings({
    ...hubSettings,
    BENCH_STORAGE_CONNECTION_STRING: z.string().min(1),
    BENCH_CHECKPOINT_CONTAINER: z.string().min(3),
  });
  const checkpointStore = new BlobCheckpointStore(new ContainerClient(settings.BENCH_STORAGE_CONNECTION_STRING, settings.BENCH_CHECKPOINT_CONTAINER));
  const client = new EventHubConsumerClient(
    settings.BENCH_CONSUMER_GROUP,
    settings.BENCH_CONNECTION_STRING,
    settings.BENCH_EVENTHUB_NAME,
    checkpointStore,
    { loadBalancingOptions: { strategy: "greedy" } },
  );
  const window = new RunWindow(settings.BENCH_EXPECTED_EVENTS, settings.BENCH_TIME_LIMIT_MS);
  const subscription = client.subscribe(
    {
      processEvents: async (events, context) => {
        if (events.length === 0 || window.isFinished) return;
        window.started();
        const lines = events.map((event) =>
          JSON.stringify({
            partitionId: context.partitionId,
            sequenceNumber: event.sequenceNumber,
            enqueuedTimeUtc: event.enqueuedTimeUtc.toISOString(),
            processedAt: new Date().toISOString(),
            result: analyzeText(textOf(event)),
          }),
        );
        process.stdout.write(`${lines.join("\n")}\n`);
        await context.updateCheckpoint(events[events.length - 1]!);
        window.checkpoints++;
        window.completed(events.length);
      },
      processError: logSubscriptionError,
    },
    backlogSubscribeOptions(settings),
  );
  const summary = await window.result();
  reportSummary(summary);
  await subscription.close();
  await client.close();
}

void main();
