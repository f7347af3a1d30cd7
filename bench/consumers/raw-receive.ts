// Configuration 1, the receive ceiling: EventHubConsumerClient.subscribe with no processing and no
// checkpoint store, with the worker's batch, wait and prefetch settings. Child process of `npm run bench`.
import { EventHubConsumerClient, earliestEventPosition } from "@azure/event-hubs";
import { RunWindow, hubSettings, readChildSettings, reportSummary } from "./child-protocol";

async function main(): Promise<void> {
  const settings = readChildSettings(hubSettings);
  const client = new EventHubConsumerClient(settings.BENCH_CONSUMER_GROUP, settings.BENCH_CONNECTION_STRING, settings.BENCH_EVENTHUB_NAME);
  const window = new RunWindow(settings.BENCH_EXPECTED_EVENTS, settings.BENCH_TIME_LIMIT_MS);
  const subscription = client.subscribe(
    {
      processEvents: async (events) => {
        if (events.length === 0) return;
        window.started();
        window.completed(events.length);
      },
      processError: async (error) => {
        process.stderr.write(`${JSON.stringify({ level: 40, msg: "subscription error", error: error.message })}\n`);
      },
    },
    {
      startPosition: earliestEventPosition,
      maxBatchSize: settings.BENCH_MAX_BATCH_SIZE,
      maxWaitTimeInSeconds: settings.BENCH_MAX_WAIT_MS / 1000,
      prefetchCount: settings.BENCH_PREFETCH_COUNT,
      skipParsingBodyAsJson: true,
    },
  );
  const summary = await window.result();
  reportSummary(summary);
  await subscription.close();
  await client.close();
}

void main();
