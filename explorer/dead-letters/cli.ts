// `npm run dead-letters -- <list|show|replay|purge>`: read and repair the worker's dead-letter store, against the
// emulator or Azure, with the worker's connection settings (environment or flags). Bad input exits with code 2
// before anything connects; an operation that fails for some dead letters exits with code 1. One run reads and
// writes through the streams and environment it is given (runDeadLetters), so it also runs inside another program.
import { createInterface } from "node:readline/promises";
import type { EventHubProducerClient } from "@azure/event-hubs";
import { Command } from "commander";
import { commanderExitCode } from "../../common/cli";
import { deadLetterContainerFor, producerFor } from "../clients";
import { addConnectionOptions, parseConnection, type Connection } from "../settings";
import { REPLAY_STATES, type RawFilter } from "./filter";
import { formatEntry, formatList, formatOutcomes } from "./format";
import { purgeDeadLetters } from "./purge";
import { replayToHubs, type ReplayOutcome } from "./replay";
import { parseSelection, selectDeadLetters } from "./select";
import type { DeadLetterEntry } from "./entry";
import { DeadLetterStore, ID_FORMAT, parseDeadLetterId } from "./store";
import { plural } from "../../common/plural";

const HUB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

type Flags = Record<string, unknown> & RawFilter & { json?: boolean; all?: boolean; yes?: boolean; toEventhubName?: string };

/** Where one run reads and writes: the process's own streams and environment, or another program's. */
export interface DeadLettersIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Asked to confirm a purge when it is a terminal. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** One run: what it was given and the exit code it ends with. */
interface Run {
  io: DeadLettersIo;
  exitCode: number;
}

/** Bad input: every problem, reported together with exit code 2. */
class InvalidOptions extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

function withFilters(command: Command, defaultState: string): Command {
  return command
    .option("--partition <ids>", "only these partitions, comma separated (e.g. 0,3)")
    .option("--since <time>", "dead-lettered at or after: ISO time or a duration ago (90s, 15m, 2h, 7d)")
    .option("--until <time>", "dead-lettered before: ISO time or a duration ago")
    .option("--error <text>", "error name or message contains this text (case-insensitive)")
    .option("--state <state>", `${REPLAY_STATES.join(" | ")} (default: ${defaultState})`)
    .option("--limit <n>", "at most this many (default: 1000)");
}

const filterOf = (flags: Flags): RawFilter => {
  const { partition, since, until, error, state, limit } = flags;
  return Object.fromEntries(Object.entries({ partition, since, until, error, state, limit }).filter(([, v]) => v !== undefined));
};

/** Connection and operation problems together, so one run shows everything that is wrong. */
function validOrThrow<T extends object>(run: Run, flags: Flags, parsed: T | { problems: string[] }, extra: string[] = []): { connection: Connection; value: T } {
  const connection = parseConnection(flags, run.io.env);
  const problems = [...("problems" in connection ? connection.problems : []), ...("problems" in parsed ? parsed.problems : []), ...extra];
  if (problems.length > 0 || !("connection" in connection) || "problems" in parsed) throw new InvalidOptions(problems);
  return { connection: connection.connection, value: parsed };
}

const scopeOf = (connection: Connection) => ({ eventHubName: connection.eventHub.eventHubName, consumerGroup: connection.eventHub.consumerGroup });

const print = (run: Run, flags: Flags, value: unknown, text: string) => run.io.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : text);

async function list(run: Run, flags: Flags): Promise<void> {
  const { connection, value: selection } = validOrThrow(
    run,
    flags,
    parseSelection({ ids: [], filter: filterOf(flags) }, { defaultState: "all", requireSelection: false }),
  );
  const store = new DeadLetterStore(deadLetterContainerFor(connection));
  const entries = await store.list(scopeOf(connection), selection.filter);
  print(run, flags, entries, formatList(entries));
}

async function show(run: Run, rawId: string, flags: Flags): Promise<void> {
  const parsedId = parseDeadLetterId(rawId);
  const { connection, value: id } = validOrThrow(run, flags, parsedId ?? { problems: [`dead-letter id ${JSON.stringify(rawId)}: allowed: ${ID_FORMAT}`] });
  const container = deadLetterContainerFor(connection);
  const entry = await new DeadLetterStore(container).get(id);
  if (!entry) {
    run.io.stderr.write(`no dead letter ${rawId} in container "${container.containerName}"\n`);
    run.exitCode = 1;
    return;
  }
  print(run, flags, entry, formatEntry(entry));
}

async function select(run: Run, ids: string[], flags: Flags, defaultState: "all" | "replayed", what: string) {
  const badHub = flags.toEventhubName !== undefined && !HUB_NAME.test(flags.toEventhubName);
  const { connection, value: selection } = validOrThrow(
    run,
    flags,
    parseSelection({ ids, filter: filterOf(flags), all: flags.all === true }, { defaultState, requireSelection: true, what }),
    badHub ? [`--to-eventhub-name ${JSON.stringify(flags.toEventhubName)}: allowed: 1-50 characters: letters, digits, '.', '-', '_'`] : [],
  );
  const container = deadLetterContainerFor(connection);
  const { entries, missing } = await selectDeadLetters(new DeadLetterStore(container), scopeOf(connection), selection);
  for (const id of missing) run.io.stderr.write(`no dead letter ${id} in container "${container.containerName}"\n`);
  if (missing.length > 0) run.exitCode = 1;
  return { connection, container, entries, missing, selection };
}

async function replay(run: Run, ids: string[], flags: Flags): Promise<void> {
  const { connection, container, entries } = await select(run, ids, flags, "all", "replay");
  const producers = new Map<string, EventHubProducerClient>();
  const producerOf = (hub: string) => producers.get(hub) ?? producers.set(hub, producerFor(connection, hub)).get(hub)!;
  let outcomes: ReplayOutcome[];
  try {
    outcomes = await replayToHubs(container, entries, flags.toEventhubName, producerOf);
  } finally {
    await Promise.all([...producers.values()].map((p) => p.close()));
  }
  print(run, flags, outcomes, formatOutcomes(outcomes));
  if (outcomes.some((o) => o.result === "failed" || o.result === "conflict")) run.exitCode = 1;
}

async function confirmed(run: Run, entries: DeadLetterEntry[], container: string): Promise<boolean> {
  const question = `Delete ${plural(entries.length, "dead letter")} from container "${container}" for good? Type "yes" to confirm: `;
  const rl = createInterface({ input: run.io.stdin, output: run.io.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === "yes";
  } finally {
    rl.close();
  }
}

async function purge(run: Run, ids: string[], flags: Flags): Promise<void> {
  const { container, entries, missing, selection } = await select(run, ids, flags, "replayed", "purge");
  const skipped = selection.hasIds ? selection.ids.length - entries.length - missing.length : 0;
  if (skipped > 0 && selection.filter.state === "replayed") {
    run.io.stderr.write(`not purged: ${plural(skipped, "given dead letter")} not yet replayed (add --state all to purge those too)\n`);
  }
  if (entries.length === 0) {
    print(run, flags, [], "nothing to purge\n");
    return;
  }
  run.io.stderr.write(formatList(entries));
  if (!flags.yes) {
    if (!run.io.stdin.isTTY) {
      run.io.stderr.write(`purge: refusing to delete ${plural(entries.length, "dead letter")} without confirmation: stdin is not a terminal; pass --yes to confirm\n`);
      run.exitCode = 2;
      return;
    }
    if (!(await confirmed(run, entries, container.containerName))) {
      run.io.stderr.write("purge: not confirmed; nothing deleted\n");
      run.exitCode = 1;
      return;
    }
  }
  const outcomes = await purgeDeadLetters(container, entries);
  print(run, flags, outcomes, formatOutcomes(outcomes));
  if (outcomes.some((o) => o.result !== "deleted")) run.exitCode = 1;
}

function buildProgram(run: Run): Command {
  const program = new Command("dead-letters")
    .description(
      "Read and repair the worker's dead-letter store (container DEAD_LETTER_CONTAINER, one blob per event: " +
        "<hub>/<consumer group>/<partition>/<sequence number>.json). Filters apply to the hub and consumer group of " +
        "EVENTHUB_NAME and EVENTHUB_CONSUMER_GROUP. Connection settings are the worker's (environment or flags).",
    )
    // Before the subcommands: they inherit where commander writes help and errors.
    .configureOutput({ writeOut: (text) => run.io.stdout.write(text), writeErr: (text) => run.io.stderr.write(text) })
    .exitOverride()
    .showHelpAfterError();
  addConnectionOptions(withFilters(program.command("list").description("list dead letters that match the filters"), "all"))
    .option("--json", "JSON instead of a table")
    .action((flags: Flags) => list(run, flags));
  addConnectionOptions(program.command("show").description("one dead letter: body, properties, position, error, replay state").argument("<id>", ID_FORMAT))
    .option("--json", "JSON instead of text")
    .action((id: string, flags: Flags) => show(run, id, flags));
  addConnectionOptions(
    withFilters(
      program
        .command("replay")
        .description("send dead letters back to their hub (or --to-eventhub-name); already replayed ones are not sent again")
        .argument("[ids...]", "dead-letter ids; or select with filters, or --all"),
      "all",
    ),
  )
    .option("--all", "every dead letter of the hub and consumer group")
    .option("--to-eventhub-name <hub>", "send to this hub (same namespace and credentials) instead of the original")
    .option("--json", "JSON instead of text")
    .action((ids: string[], flags: Flags) => replay(run, ids, flags));
  addConnectionOptions(
    withFilters(
      program
        .command("purge")
        .description("delete dead letters for good (by default only replayed ones); asks first unless --yes")
        .argument("[ids...]", "dead-letter ids; or select with filters, or --all"),
      "replayed",
    ),
  )
    .option("--all", "every replayed dead letter of the hub and consumer group (with --state all: every one)")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "JSON instead of text")
    .action((ids: string[], flags: Flags) => purge(run, ids, flags));
  return program;
}

/** Runs one command line; resolves with its exit code: 0, 1 when it failed for some dead letters, 2 on bad input. */
export async function runDeadLetters(argv: readonly string[], io: DeadLettersIo): Promise<number> {
  const run: Run = { io, exitCode: 0 };
  try {
    await buildProgram(run).parseAsync([...argv], { from: "user" });
  } catch (error) {
    const exitCode = commanderExitCode(error);
    if (exitCode !== undefined) return exitCode;
    if (error instanceof InvalidOptions) {
      io.stderr.write(`Invalid dead-letters options:\n${error.problems.map((p) => `  - ${p}\n`).join("")}`);
      return 2;
    }
    io.stderr.write(`dead-letters failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return run.exitCode;
}

async function main(): Promise<void> {
  const exitCode = await runDeadLetters(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
  // SDK timers (AMQP idle and retry) can keep the loop alive for seconds after close.
  process.stdout.write("", () => process.exit(exitCode));
}

if (require.main === module) void main();
