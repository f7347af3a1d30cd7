// The explorer as `npm run dev` starts it: over the local stack's hub and consumer group, with the dev
// workers' metrics endpoints (known once each worker logs its port), on a free port of 127.0.0.1.
import type { LocalStack } from "../emulator";
import { startExplorer, type ExplorerServer } from "./server";
import { parseConnection } from "./settings";

export async function startDevExplorer(stack: LocalStack, metricsPorts: () => number[], allowWrites: boolean): Promise<ExplorerServer> {
  const parsed = parseConnection({}, stack.env());
  if (!("connection" in parsed)) throw new Error(`local stack settings rejected: ${parsed.problems.join("; ")}`);
  return startExplorer(
    {
      connection: parsed.connection,
      hubs: [stack.eventHubName],
      consumerGroups: [stack.consumerGroup],
      peekConsumerGroup: "$Default",
      allowWrites,
      workerMetricsUrls: () => metricsPorts().map((port) => `http://127.0.0.1:${port}/metrics`),
      title: "npm run dev",
    },
    { host: "127.0.0.1", port: 0 },
  );
}
