// The command-line front end the programs share: commander reads the words, one zod schema validates every
// option at once, and bad input ends the program with exit code 2 and one line per problem (the flag as it was
// typed, the value, what is allowed) before anything connects. --help exits 0. Commander and zod only: the
// worker image loads this folder.
import { CommanderError, type Command } from "commander";
import { z } from "zod";

export interface CommandLine<Schema extends z.ZodType> {
  /** The program's flags, defaults and help texts; this sets exitOverride() on it. */
  command: Command;
  /** Validates and types the options commander collected (keys as commander names them: poisonEvery). */
  schema: Schema;
  /** First line of the problem report, e.g. "Invalid send options". */
  title: string;
  /** The user's words; default: process.argv without node and the script. */
  argv?: readonly string[];
  /** What options declared with `.env(NAME)` read; default process.env. The flag wins; an empty variable is unset. */
  env?: NodeJS.ProcessEnv;
  /** Option keys whose values never appear in a message (connection strings, keys). */
  secrets?: readonly string[];
}

export type CommandLineResult<T> =
  | { kind: "ok"; options: T }
  /** Commander has already printed help (0) or a syntax error (2); `problems` are ours, not yet printed. */
  | { kind: "exit"; exitCode: 0 | 2; problems: string[] };

/** An integer option from its text; the message says what is allowed. */
export const wholeNumber = (min: number, max: number) => {
  const allowed = `allowed: an integer from ${min} to ${max}`;
  return z.coerce.number(allowed).int(allowed).min(min, allowed).max(max, allowed);
};

/** A decimal option from its text. */
export const decimal = (min: number, max: number) => {
  const allowed = `allowed: a number from ${min} to ${max}`;
  return z.coerce.number(allowed).min(min, allowed).max(max, allowed);
};

/** 0 after --help, 2 after a syntax error commander printed (unknown flag, missing value); otherwise undefined. */
export function commanderExitCode(error: unknown): 0 | 2 | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  return error.exitCode === 0 ? 0 : 2;
}

/** Parses and validates without printing or exiting, so a caller (or a test) decides what happens. */
export function parseCommandLine<Schema extends z.ZodType>(line: CommandLine<Schema>): CommandLineResult<z.output<Schema>> {
  const { command } = line;
  command.exitOverride();
  try {
    command.parse([...(line.argv ?? process.argv.slice(2))], { from: "user" });
  } catch (error) {
    const exitCode = commanderExitCode(error);
    if (exitCode === undefined) throw error;
    return { kind: "exit", exitCode, problems: [] };
  }
  const flags = withEnvironment(command, line.env ?? process.env);
  const parsed = line.schema.safeParse(flags);
  if (parsed.success) return { kind: "ok", options: parsed.data };
  return { kind: "exit", exitCode: 2, problems: parsed.error.issues.map((issue) => describeIssue(command, flags, issue, line.secrets ?? [])) };
}

/** The validated options, or the process ends: 0 after --help, 2 with every problem on stderr. */
export function optionsOrExit<Schema extends z.ZodType>(line: CommandLine<Schema>): z.output<Schema> {
  const result = parseCommandLine(line);
  if (result.kind === "ok") return result.options;
  if (result.problems.length > 0) exitWithProblems(line.title, result.problems);
  process.exit(result.exitCode);
}

export function exitWithProblems(title: string, problems: readonly string[]): never {
  process.stderr.write(`${title}:\n${problems.map((p) => `  - ${p}\n`).join("")}`);
  process.exit(2);
}

/**
 * Commander reads `.env(NAME)` from process.env itself and takes an empty variable as a value; this reads
 * the given environment instead (tests pass their own) and, as the worker and most deployment tools do,
 * takes an empty variable as not set. Values from the environment are text, for the schema to validate.
 */
function withEnvironment(command: Command, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const flags = { ...command.opts() };
  for (const option of command.options) {
    const key = option.attributeName();
    if (option.envVar === undefined || command.getOptionValueSource(key) === "cli") continue;
    const value = env[option.envVar];
    if (value !== undefined && value !== "") flags[key] = value;
    else if (option.defaultValue === undefined) delete flags[key];
    else flags[key] = option.defaultValue;
  }
  return flags;
}

/**
 * `--poison-every: "-1": allowed: ...`: the flag as typed (and its variable), the value unless secret, the rule.
 * An issue of no single option (options that go together) is its message alone.
 */
function describeIssue(command: Command, flags: Record<string, unknown>, issue: z.core.$ZodIssue, secrets: readonly string[]): string {
  const key = issue.path[0];
  if (typeof key !== "string") return issue.message;
  const option = command.options.find((o) => o.attributeName() === key);
  const flag = option?.long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const name = option?.envVar ? `${flag} (${option.envVar})` : flag;
  const value = flags[key];
  if (value === undefined) return `${name}: ${issue.message}`;
  const shown = secrets.includes(key) ? `(${String(value).length} characters, hidden)` : JSON.stringify(value);
  return `${name}: ${shown}: ${issue.message}`;
}
