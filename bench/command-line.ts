// Shared by `npm run bench` and `npm run chaos`: parse flags with commander, then validate them all at once
// with zod; a bad flag prints every problem (as the flag a user typed) and exits 2 before anything runs.
import { CommanderError, type Command } from "commander";
import { z } from "zod";

/** A whole number within [min, max], from a flag's text. */
export const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `command` must use exitOverride(), so --help and bad flags come back here instead of exiting inside commander. */
export function parseCommandLine<Schema extends z.ZodType>(command: Command, schema: Schema, argv: readonly string[], label: string): z.output<Schema> {
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    throw error;
  }
  const parsed = schema.safeParse(command.opts());
  if (!parsed.success) {
    const flagOf = (key: PropertyKey | undefined) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const problems = parsed.error.issues.map((issue) => `  ${flagOf(issue.path[0])}: ${issue.message}`);
    process.stderr.write(`Invalid ${label} options:\n${problems.join("\n")}\n`);
    process.exit(2);
  }
  return parsed.data;
}
