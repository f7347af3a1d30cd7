// `npm run worker`: parse the configuration (exit 2 on bad input), start the worker, stop on SIGTERM/SIGINT. Built
// on the worker's public surface (index.ts), as any other program that runs a worker would be.
import {
  createLogger,
  errorFields,
  installShutdownHandlers,
  parseConfig,
  startTracing,
  startWorker,
  StartupError,
  type RunningWorker,
  type WorkerStartedMessage,
} from "./index";

async function main(): Promise<void> {
  const parsed = await parseConfig(process.argv.slice(2), process.env);
  if (parsed.kind === "exit") {
    process.exitCode = parsed.exitCode;
    return;
  }
  if (parsed.kind === "invalid") {
    process.stderr.write(
      `Invalid worker configuration (${parsed.problems.length} problem${parsed.problems.length === 1 ? "" : "s"}):\n` +
        parsed.problems.map((problem) => `  - ${problem}\n`).join("") +
        "Run with --help for every setting.\n",
    );
    process.exitCode = 2;
    return;
  }
  const { config } = parsed;
  const logger = createLogger(config.logLevel);
  process.on("unhandledRejection", (reason) => logger.error({ err: errorFields(reason) }, "unhandled rejection"));
  // Before the worker's clients send anything, so their spans join the worker's traces.
  // Telemetry never keeps the worker from working: a tracing set-up that fails is logged and left off.
  const tracing = await startTracing("eventhubs-ai-worker").catch((error: unknown) => {
    logger.warn({ err: errorFields(error) }, "tracing could not start; running without it");
    return undefined;
  });
  if (tracing) logger.info({ tracing: tracing.backend }, `tracing on: exporting to ${tracing.backend}`);

  const starting: Promise<RunningWorker> = startWorker(config, logger, tracing);
  // Installed before start-up finishes: a signal during start-up still stops what has started, in order.
  installShutdownHandlers({
    stop: async () => {
      await (await starting.catch(() => undefined))?.stop();
      await tracing?.shutdown(); // exports the spans of the drain
    },
    timeoutMs: config.shutdownTimeoutMs,
    logger,
  });
  let worker: RunningWorker;
  try {
    worker = await starting;
  } catch (error) {
    logger.fatal({ err: errorFields(error) }, error instanceof StartupError ? error.message : "worker failed to start");
    process.exit(1); // clients created before the failure may hold the loop open
  }
  // A harness that spawned this worker with an IPC channel learns where /status is, even for METRICS_PORT=0.
  // Sending never fails the worker: an error (the parent gone) goes to the callback.
  const started: WorkerStartedMessage = { workerStarted: { metricsPort: worker.metricsPort } };
  process.send?.(started, undefined, {}, () => undefined);
}

void main();
