// `npm run emulator -- [options]`: starts the local Event Hubs emulator (AMQP and Kafka) and Azurite, prints
// the six NAME=value lines a worker needs and KAFKA_BOOTSTRAP_SERVERS on stdout once all are ready (logs go
// to stderr), and runs until SIGINT/SIGTERM. Bad flags or a bad config file: a clear message and exit code 2, before anything starts.
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { z } from "zod";
import { exitWithProblems, optionsOrExit } from "../common/cli";
import { ConfigError, type EmulatorConfig, LIMITS, parseEmulatorConfig } from "./config";
import { startHealthServer, type HealthServer } from "./health";
import { type LocalStack, startLocalStack } from "./local-stack";
import { plural } from "../common/plural";

const EXIT_FAILURE = 1;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** What commander's parsers below already checked; the schema types it for the rest of the program. */
const cliSchema = z.object({
  host: z.string(),
  port: z.number(),
  blobPort: z.number(),
  kafkaPort: z.number(),
  config: z.string().optional(),
  dataDir: z.string().optional(),
  healthPort: z.number().optional(),
  checkSignatures: z.boolean(),
  retentionHours: z.number().optional(),
  logLevel: z.enum(LOG_LEVELS),
});
type CliOptions = z.infer<typeof cliSchema>;

function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535 (0 = pick a free port).");
  return port;
}

function retentionHours(value: string): number {
  const hours = Number(value);
  if (!Number.isFinite(hours) || hours <= 0 || hours > LIMITS.maxRetentionHours) {
    throw new InvalidArgumentError(`expected a number of hours greater than 0 and at most ${LIMITS.maxRetentionHours}.`);
  }
  return hours;
}

function commandLine(): Command {
  return new Command("emulator")
    .description("Local Azure Event Hubs emulator (AMQP 1.0) plus Azurite blob storage for checkpoints.")
    .option("--host <host>", "interface both servers listen on", "127.0.0.1")
    .option("--port <port>", "AMQP port of the Event Hubs emulator (0 = free port)", portNumber, 5672)
    .option("--blob-port <port>", "Azurite blob port (0 = free port)", portNumber, 10000)
    .option("--kafka-port <port>", "Kafka port of the Event Hubs emulator, SASL_PLAINTEXT (0 = free port)", portNumber, 9092)
    .option("--config <file>", "JSON config: our shape or Microsoft's emulator Config.json")
    .option("--data-dir <dir>", "keep events and blobs on disk here (default: in memory)")
    .option("--health-port <port>", "serve GET /health on this port (0 = free port)", portNumber)
    .option("--no-check-signatures", "accept any SAS token (signatures are checked by default)")
    .option("--retention-hours <hours>", "how long events are kept (default 24, or the config file's value)", retentionHours)
    .addOption(new Option("--log-level <level>", "stderr log level").choices(LOG_LEVELS).default("info"))
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    // --help is what was asked for: stdout. Errors go to stderr; stdout otherwise carries only the settings.
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [`cannot read the config file: ${(error as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [`not valid JSON: ${(error as Error).message}`]);
  }
}

/** The config file (if any) with the command-line flags on top, validated once. */
function resolveConfig(options: CliOptions): EmulatorConfig {
  const base = options.config ? parseEmulatorConfig(readConfigFile(options.config), options.config) : parseEmulatorConfig({}, "defaults");
  return parseEmulatorConfig(
    {
      ...base,
      ...(options.checkSignatures ? {} : { checkSignatures: false }),
      ...(options.retentionHours === undefined ? {} : { retentionHours: options.retentionHours }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    },
    "command line",
  );
}

/** Parses flags and config, or exits with code 2 and the reason on stderr. */
function parseOrExit(): { options: CliOptions; config: EmulatorConfig } {
  const options = optionsOrExit({ command: commandLine(), schema: cliSchema, title: "Invalid emulator options" });
  try {
    return { options, config: resolveConfig(options) };
  } catch (error) {
    if (error instanceof ConfigError) exitWithProblems(`Invalid emulator configuration (${error.source})`, error.problems);
    throw error;
  }
}

async function main(): Promise<void> {
  const { options, config } = parseOrExit();
  const logger = pino({ name: "emulator", level: options.logLevel }, pino.destination(2));
  let stack: LocalStack | undefined;
  let health: HealthServer | undefined;
  let shuttingDown = false;

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    try {
      await health?.stop();
      await stack?.stop();
      logger.info("stopped");
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(EXIT_FAILURE);
    }
  };
  // `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal and relayed by npm), and a
  // second delivery must not kill it halfway through stopping.
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  try {
    stack = await startLocalStack({ host: options.host, eventHubsPort: options.port, blobPort: options.blobPort, kafkaPort: options.kafkaPort, config, logger });
    if (options.healthPort !== undefined) health = await startHealthServer(stack, { host: options.host, port: options.healthPort });
  } catch (error) {
    logger.fatal({ err: error }, "could not start the local stack");
    await stack?.stop().catch(() => undefined);
    process.exit(EXIT_FAILURE);
  }
  if (shuttingDown) return;

  for (const [name, value] of Object.entries(stack.env())) process.stdout.write(`${name}=${value}\n`);
  // For Kafka clients (see docs/kafka.md); not a worker setting.
  process.stdout.write(`KAFKA_BOOTSTRAP_SERVERS=${stack.kafkaBootstrapServers}\n`);
  logger.info(
    {
      eventHubsPort: stack.eventHubsPort,
      blobPort: stack.blobPort,
      kafkaPort: stack.kafkaPort,
      healthUrl: health?.url,
      hubs: config.hubs.map((hub) => `${hub.name} (${plural(hub.partitionCount, "partition")})`),
      dataDir: config.dataDir ?? "in memory",
      checkSignatures: config.checkSignatures,
    },
    "local Event Hubs emulator and Azurite are ready",
  );
}

void main();
