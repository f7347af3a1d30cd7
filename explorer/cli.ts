// `npm run explorer`: a local web page over a namespace (emulator or Azure, Listen rights) and the workers'
// checkpoint and dead-letter storage. Read-only unless started with --allow-writes.
import { Command } from "commander";
import { z } from "zod";
import { optionsOrExit } from "../common/cli";
import { startExplorer } from "./server";
import { addConnectionOptions, connectionSchema } from "./settings";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;
const CONSUMER_GROUP = /^(\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})$/;
const list = (pattern: RegExp, allowed: string) =>
  z
    .string()
    .transform((raw) => raw.split(",").map((part) => part.trim()).filter(Boolean))
    .refine((names) => names.length > 0 && names.every((n) => pattern.test(n)), `allowed: ${allowed}, separated by commas`);

const optionsSchema = z.object({
  hubs: list(NAME, "hub names").optional(),
  consumerGroups: list(CONSUMER_GROUP, "consumer group names").optional(),
  peekConsumerGroup: z.string().regex(CONSUMER_GROUP, "allowed: a consumer group name").default("$Default"),
  host: z.string().min(1, "allowed: an interface address such as 127.0.0.1").default("127.0.0.1"),
  port: z.coerce.number({ message: "allowed: an integer from 0 to 65535" }).int("allowed: an integer from 0 to 65535").min(0, "allowed: an integer from 0 to 65535").max(65_535, "allowed: an integer from 0 to 65535").default(8642),
  allowWrites: z.boolean().default(false),
  workerMetrics: z
    .string()
    .transform((raw) => raw.split(",").map((u) => u.trim()).filter(Boolean))
    .refine((urls) => urls.every((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol)), "allowed: http(s) URLs of workers' /metrics, separated by commas")
    .default([]),
});

function buildCommand(): Command {
  const command = new Command("explorer")
    .description(
      "A local web page over an Event Hubs namespace and the workers' storage: hubs and partitions, peeks, consumer " +
        "groups (owners, checkpoints, lag), the model quotas' use by the fleet, the workers' metrics and the dead letters. Read-only unless --allow-writes.",
    )
    .option("--hubs <names>", "hubs to show, comma separated (default: EVENTHUB_NAME)")
    .option("--consumer-groups <names>", "consumer groups to show, comma separated (default: EVENTHUB_CONSUMER_GROUP)")
    .option("--peek-consumer-group <name>", "consumer group for peeking events; not the workers' own (default: $Default)")
    .option("--host <address>", "interface to listen on (default: 127.0.0.1, this machine only)")
    .option("--port <n>", "port to listen on; 0 picks a free one (default: 8642)")
    .option("--allow-writes", "allow replay, purge and sending test events (default: read-only)")
    .option("--worker-metrics <urls>", "workers' /metrics URLs, comma separated (e.g. http://127.0.0.1:9464/metrics)");
  return addConnectionOptions(command);
}

async function main(): Promise<void> {
  const o = optionsOrExit({
    command: buildCommand(),
    schema: optionsSchema.and(connectionSchema(process.env)),
    title: "Invalid explorer options",
  });
  const { connection } = o;
  const { eventHub } = connection;
  const server = await startExplorer(
    {
      connection,
      hubs: o.hubs ?? [eventHub.eventHubName],
      consumerGroups: o.consumerGroups ?? [eventHub.consumerGroup],
      peekConsumerGroup: o.peekConsumerGroup,
      allowWrites: o.allowWrites,
      workerMetricsUrls: () => o.workerMetrics,
      title: "npm run explorer",
    },
    { host: o.host, port: o.port },
  ).catch((error: unknown) => {
    process.stderr.write(`explorer could not listen on ${o.host}:${o.port}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
  process.stdout.write(`explorer: ${server.url} (${o.allowWrites ? "writes allowed: replay, purge, test events" : "read-only; --allow-writes enables replay and purge"})\n`);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

void main();
