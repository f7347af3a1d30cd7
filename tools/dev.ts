// `npm run dev`: the whole pipeline on one machine, no Azure account. Starts the local Event Hubs emulator and
// Azurite, N worker processes (tools/worker-process.ts), and the sample producer (over AMQP, or over Kafka with
// --protocol kafka); shows live per-partition progress; then stops everything in order (workers drain and
// checkpoint) and prints a summary.
import { mkdirSync, rmSync } from "node:fs";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { Command, Option } from "commander";
import pino from "pino";
import { z } from "zod";
import { decimal, optionsOrExit, wholeNumber } from "../common/cli";
import { startLocalStack, type LocalStack } from "../emulator";
import { startDevExplorer } from "../explorer/dev-explorer";
import { readCheckpoints, readDeadLetterKeys, readOwnership } from "./dev/blob-state";
import { ProgressDisplay, renderSummary, type PartitionProgress, type ProgressSnapshot } from "./dev/progress";
import { DevWorker } from "./dev/worker-fleet";
import { amqpTarget, PARTITION_KEY_MODES, PROTOCOLS, sendEvents } from "./send";
import type { SendTarget } from "./send-target";
import { connectKafkaTarget } from "./send-kafka";
import { installShutdownHandlers, startTracing, type SettingName, type WorkerEnvironment } from "../worker/index";
import { waitFor } from "./wait-for";
import { plural } from "../common/plural";

const SECONDS = "allowed: a number of seconds greater than 0";
const optionsSchema = z.object({
  count: wholeNumber(1, 10_000_000),
  rate: decimal(0, 1_000_000),
  workers: wholeNumber(1, 8),
  allowWrites: z.boolean().default(false),
  duration: z.coerce.number(SECONDS).positive(SECONDS).optional(),
  poisonEvery: wholeNumber(0, 10_000_000),
  partitionKeyMode: z.enum(PARTITION_KEY_MODES),
  protocol: z.enum(PROTOCOLS),
});
type DevOptions = z.infer<typeof optionsSchema>;

function parseOptions(): DevOptions {
  const command = new Command("dev")
    .description(
      "Runs the local emulator + Azurite, the worker(s) and the sample producer, with live per-partition progress.\n" +
        "Worker settings can be tuned through the usual environment variables (see `npm run worker -- --help`).",
    )
    .option("--count <n>", "events to send", "2000")
    .option("--rate <r>", "events per second (0 = as fast as possible)", "200")
    .option("--workers <n>", "worker processes (several show load balancing)", "2")
    .option("--allow-writes", "let the explorer page replay and purge dead letters and send test events")
    .option("--duration <seconds>", "stop after this long even if not finished")
    .option("--poison-every <k>", "every k-th event is poison and gets dead-lettered (0 = none)", "100")
    .addOption(new Option("--partition-key-mode <mode>", "how the producer spreads events").choices(PARTITION_KEY_MODES).default("round-robin"))
    .addOption(new Option("--protocol <protocol>", "how the producer sends: the Event Hubs SDK (amqp) or kafkajs on the Kafka endpoint (kafka)").choices(PROTOCOLS).default("amqp"));
  return optionsOrExit({ command, schema: optionsSchema, title: "Invalid options" });
}

/** Settings that make a local demo lively; any of them can be overridden from the environment. */
const DEV_WORKER_DEFAULTS: WorkerEnvironment = {
  MAX_BATCH_SIZE: "50",
  MAX_WAIT_MS: "500",
  PREFETCH_COUNT: "150",
  CHECKPOINT_EVERY_EVENTS: "100",
  CHECKPOINT_EVERY_MS: "2000",
  LOAD_BALANCING: "greedy",
  LOAD_BALANCING_UPDATE_INTERVAL_MS: "1000",
  LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: "5000",
  PROCESSOR_THREADS: "1",
  SHUTDOWN_TIMEOUT_MS: "10000",
  LOG_LEVEL: "info",
};

class RunState {
  readonly seen = new Map<string, Set<number>>();
  readonly duplicates = new Map<string, number>();
  sentPerPartition = new Map<string, number>();
  checkpoints = new Map<string, number>();
  owners = new Map<string, string>();
  deadLetters = new Map<string, Set<number>>();
  firstResultAt: number | undefined;
  lastResultAt: number | undefined;
  private readonly samples: Array<[number, number]> = [];

  constructor(readonly partitionIds: string[]) {}

  recordResult(partitionId: string, sequenceNumber: number): void {
    const set = this.seen.get(partitionId) ?? new Set<number>();
    if (set.has(sequenceNumber)) this.duplicates.set(partitionId, (this.duplicates.get(partitionId) ?? 0) + 1);
    set.add(sequenceNumber);
    this.seen.set(partitionId, set);
    const now = Date.now();
    this.firstResultAt ??= now;
    this.lastResultAt = now;
  }

  done(): number {
    return this.partitionIds.reduce((total, p) => total + (this.seen.get(p)?.size ?? 0) + (this.deadLetters.get(p)?.size ?? 0), 0);
  }

  throughput(): number {
    const now = Date.now();
    this.samples.push([now, this.done()]);
    while (this.samples.length > 2 && (this.samples[0]?.[0] ?? now) < now - 5000) this.samples.shift();
    const [startAt, startDone] = this.samples[0] ?? [now, 0];
    return now > startAt ? ((this.done() - startDone) * 1000) / (now - startAt) : 0;
  }

  partitions(workers: DevWorker[]): PartitionProgress[] {
    const nameOf = (ownerId: string | undefined) => workers.find((w) => w.ownerId !== undefined && w.ownerId === ownerId)?.name ?? "";
    return this.partitionIds.map((partitionId) => ({
      partitionId,
      sent: this.sentPerPartition.get(partitionId) ?? 0,
      processed: this.seen.get(partitionId)?.size ?? 0,
      duplicates: this.duplicates.get(partitionId) ?? 0,
      deadLettered: this.deadLetters.get(partitionId)?.size ?? 0,
      checkpoint: this.checkpoints.get(partitionId),
      owner: nameOf(this.owners.get(partitionId)),
    }));
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  // With an OTEL_* exporter configured the sample events start traces that the workers (same environment) continue.
  const tracing = await startTracing("eventhubs-dev");
  // One folder, emptied by each run: it holds the last run's files, not one more folder per run.
  const runDir = join(tmpdir(), "eventhubs-dev");
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  process.stdout.write(`starting the local Event Hubs emulator and Azurite...\n`);
  const stack: LocalStack = await startLocalStack({ logger: pino({ level: "silent" }) });
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName);
  const storage = BlobServiceClient.fromConnectionString(stack.storageConnectionString);
  const checkpointContainer = storage.getContainerClient(stack.checkpointContainer);
  const deadLetterContainer = storage.getContainerClient(stack.deadLetterContainer);
  const state = new RunState(await producer.getPartitionIds());
  process.stdout.write(
    `hub "${stack.eventHubName}" with ${plural(state.partitionIds.length, "partition")} at ${stack.eventHubConnectionString.split(";")[0]}, ` +
      `storage at ${stack.storageAccountUrl}\nfiles: ${runDir}\n\n`,
  );

  const resultsFile = createWriteStream(join(runDir, "results.jsonl"));
  const workers = Array.from({ length: options.workers }, (_, i) => {
    const name = `worker-${i + 1}`;
    const settings: WorkerEnvironment = { SINK: "stdout", METRICS_PORT: "0", METRICS_HOST: "127.0.0.1" };
    const env = { ...DEV_WORKER_DEFAULTS, ...inheritedEnv(), ...stack.env(), ...settings };
    return new DevWorker(name, env, { results: resultsFile, log: createWriteStream(join(runDir, `${name}.log`)) }, (_w, key) =>
      state.recordResult(key.partitionId, key.sequenceNumber),
    );
  });

  const explorer = await startDevExplorer(stack, () => workers.flatMap((w) => (w.metricsPort === undefined ? [] : [w.metricsPort])), options.allowWrites);
  process.stdout.write(`explorer: ${explorer.url} (${options.allowWrites ? "writes allowed" : "read-only; --allow-writes enables replay and purge"})\n`);

  // Traffic starts once the workers have shared out the partitions, so the demo shows steady ownership
  // instead of a first worker grabbing everything and handing partitions over mid-stream.
  process.stdout.write(`waiting for ${plural(options.workers, "worker")} to share out the partitions...\n`);
  const balanced = () => {
    const share = Math.floor(state.partitionIds.length / workers.length);
    const claims = workers.flatMap((w) => w.ownedPartitions);
    const owned = new Set(claims);
    // Each partition claimed by exactly one worker (a worker notices a loss at its next ownership check).
    return owned.size === state.partitionIds.length && claims.length === owned.size && workers.every((w) => w.ownedPartitions.length >= share);
  };
  // Sends anyway after 30 s: the display shows how the partitions ended up.
  await waitFor("the workers to share out the partitions", () => balanced() || workers.every((w) => !w.running), 30_000).catch(() => undefined);
  process.stdout.write(
    `${workers.map((w) => `${w.name} owns ${w.ownedPartitions.join(",") || "nothing"}`).join(" · ")}; sending ${plural(options.count, "event")} at ${options.rate || "max"}/s` +
      `${options.protocol === "kafka" ? ` over Kafka (${stack.kafkaBootstrapServers})` : ""}\n\n`,
  );

  const stopSending = new AbortController();
  let sendingDone = false;
  // The AMQP client also reads the partitions' progress below, whichever protocol sends.
  const target: SendTarget = options.protocol === "kafka"
    ? await connectKafkaTarget({ bootstrapServers: stack.kafkaBootstrapServers, connectionString: stack.eventHubConnectionString, eventHubName: stack.eventHubName })
    : amqpTarget(producer);
  const sending = sendEvents(target, {
    count: options.count,
    rate: options.rate,
    partitionKeyMode: options.partitionKeyMode,
    poisonEvery: options.poisonEvery,
    signal: stopSending.signal,
  })
    .catch((error: unknown) => {
      if (!stopSending.signal.aborted) process.stderr.write(`producer stopped: ${error instanceof Error ? error.message : String(error)}\n`);
    })
    .finally(() => {
      sendingDone = true;
    });

  // Ctrl-C: stop in order (workers drain and checkpoint) and still print the summary; a second Ctrl-C kills.
  let interrupted = false;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  installShutdownHandlers({
    stop: () => {
      interrupted = true;
      return done;
    },
    timeoutMs: 120_000,
    logger: pino({ level: "silent" }),
    exit: (code) => process.exit(code),
  });
  // Workers run in their own process groups: never leave them behind.
  process.on("exit", () => {
    for (const w of workers) w.kill();
  });

  const started = Date.now();
  const display = new ProgressDisplay(process.stdout);
  const snapshot = (): ProgressSnapshot => ({
    elapsedSeconds: (Date.now() - started) / 1000,
    target: options.count,
    sent: [...state.sentPerPartition.values()].reduce((a, b) => a + b, 0),
    partitions: state.partitions(workers),
    workers: workers.map((w) => ({ name: w.name, owned: w.ownedPartitions, results: w.resultCount, running: w.running, ...(w.lastError ? { lastError: w.lastError } : {}) })),
    throughput: state.throughput(),
  });

  const refresh = async () => {
    const [properties, checkpoints, owners, deadLetters] = await Promise.all([
      Promise.all(state.partitionIds.map((p) => producer.getPartitionProperties(p))),
      readCheckpoints(checkpointContainer, stack.eventHubName, stack.consumerGroup),
      readOwnership(checkpointContainer, stack.eventHubName, stack.consumerGroup),
      readDeadLetterKeys(deadLetterContainer, stack.eventHubName, stack.consumerGroup),
    ]);
    state.sentPerPartition = new Map(properties.map((p) => [p.partitionId, p.isEmpty ? 0 : p.lastEnqueuedSequenceNumber + 1]));
    state.checkpoints = checkpoints;
    state.owners = owners;
    state.deadLetters = deadLetters;
  };

  let lastProgressAt = Date.now();
  let lastDone = 0;
  let stopReason = "";
  while (!stopReason) {
    await refresh().catch(() => undefined);
    display.update(snapshot());
    const done = state.done();
    if (done !== lastDone) [lastDone, lastProgressAt] = [done, Date.now()];
    const sent = [...state.sentPerPartition.values()].reduce((a, b) => a + b, 0);
    if (interrupted) stopReason = "interrupted";
    else if (options.duration !== undefined && Date.now() - started >= options.duration * 1000) stopReason = `--duration ${options.duration}s reached`;
    else if (sendingDone && sent > 0 && done >= sent) stopReason = "every event processed";
    else if (workers.every((w) => !w.running)) stopReason = "every worker exited";
    else if (sendingDone && Date.now() - lastProgressAt > 60_000) stopReason = "no progress for 60 s";
    else await new Promise((resolve) => setTimeout(resolve, display.interactive ? 250 : 1000));
  }

  process.stdout.write(`\nstopping (${stopReason}): workers drain, checkpoint and release their partitions...\n`);
  stopSending.abort();
  await sending;
  const exitCodes = await Promise.all(workers.map((w) => w.stop(20_000)));
  await refresh().catch(() => undefined);
  const finalSnapshot = snapshot();
  resultsFile.end();
  const processingSeconds = state.firstResultAt && state.lastResultAt ? (state.lastResultAt - state.firstResultAt) / 1000 : 0;
  process.stdout.write(
    renderSummary(finalSnapshot, {
      processingSeconds,
      files: [join(runDir, "results.jsonl"), ...workers.map((w) => join(runDir, `${w.name}.log`))],
    }),
  );
  process.stdout.write(`worker exit codes: ${exitCodes.map((c, i) => `worker-${i + 1}=${c ?? "killed"}`).join(", ")}\n`);
  if (options.protocol === "kafka") await target.close();
  await producer.close();
  await explorer.close();
  await stack.stop();
  await tracing?.shutdown();
  finished();
  // SDK timers (AMQP idle and retry timers) can keep the loop alive for many seconds after close.
  process.stdout.write("", () => process.exit(0));
}

/** The caller's environment minus connection settings that would conflict with the local stack's. */
function inheritedEnv(): Record<string, string> {
  const conflicting = new Set<SettingName>(["EVENTHUB_NAMESPACE", "STORAGE_ACCOUNT_URL", "SINK_EVENTHUB_CONNECTION_STRING", "SINK_EVENTHUB_NAMESPACE"]);
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !conflicting.has(entry[0] as SettingName)),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`npm run dev failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
