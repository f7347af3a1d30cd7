// Configuration 1, the receive ceiling: EventHubConsumerClient.subscribe with no processing and no
// checkpoint store, with the worker's batch, wait and prefetch settings. Child process of `npm run bench`.
// With BENCH_WARM_UP_MS it also records each event's latency (enqueued time to its batch arriving) for
// events enqueued that long after it reported ready: the floor the SDK itself sets for any processor.
import { z } from "zod";
import { EventHubConsumerClient } from "@azure/event-hubs";
import { summarizeLatency } from "../stats";
import { RunWindow, backlogSubscribeOptions, hubSettings, logSubscriptionError, readChildSettings, reportReady, reportSummary } from "./child-protocol";

async function main(): Promise<void> {
  const settings = readChildSettings({ ...hubSettings, BENCH_WARM_UP_MS: z.coerce.number().int().min(0).optional() });
  const warmUpMs = settings.BENCH_WARM_UP_MS;
  let measureFrom = Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let initialized = 0;
  const client = new EventHubConsumerClient(settings.BENCH_CONSUMER_GROUP, settings.BENCH_CONNECTION_STRING, settings.BENCH_EVENTHUB_NAME);
  const partitionCount = (await client.getPartitionIds()).length;
  const window = new RunWindow(settings.BENCH_EXPECTED_EVENTS, settings.BENCH_TIME_LIMIT_MS);
  const subscription = client.subscribe(
    {
      processInitialize: async () => {
        if (++initialized !== partitionCount) return;
        setTimeout(() => {
          measureFrom = Date.now() + (warmUpMs ?? 0);
          reportReady();
        }, 500); // links attach right after initialization
      },
      processEvents: async (events) => {
        if (events.length === 0) return;
        window.started();
        if (warmUpMs !== undefined) {
          const now = Date.now();
          for (const event of events) {
            const enqueuedAt = event.enqueuedTimeUtc.getTime();
            if (enqueuedAt >= measureFrom) latencies.push(now - enqueuedAt);
          }
        }
        window.completed(events.length);
      },
      processError: logSubscriptionError,
    },
    { ...backlogSubscribeOptions(settings), skipParsingBodyAsJson: true },
  );
  const summary = await window.result();
  reportSummary(warmUpMs === undefined ? summary : { ...summary, latencyMs: summarizeLatency(latencies) });
  await subscription.close();
  await client.close();
}

void main();
