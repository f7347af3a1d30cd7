// The connection settings the explorer and the dead-letter CLI share with the worker: the same environment
// variables and flags (EVENTHUB_NAME <-> --eventhub-name), validated by the worker's own rules, so a setup that
// runs a worker runs these tools too. Every problem is reported at once; callers exit with code 2.
import type { Command } from "commander";
import { z } from "zod";
import { addSettingOptions, CONNECTION_SETTINGS, rawSettings, validateConnection, type Connection, type ConnectionSettingName } from "../worker/index";

/** The connection settings the tools take; the others (SDK retries, CREATE_CONTAINERS) keep their defaults. */
const EXPLORER_SETTINGS = [
  "EVENTHUB_CONNECTION_STRING",
  "EVENTHUB_NAMESPACE",
  "EVENTHUB_NAME",
  "EVENTHUB_CONSUMER_GROUP",
  "STORAGE_CONNECTION_STRING",
  "STORAGE_ACCOUNT_URL",
  "CHECKPOINT_CONTAINER",
  "DEAD_LETTER_CONTAINER",
] as const satisfies readonly ConnectionSettingName[];

export type { Connection };

export function addConnectionOptions(command: Command): Command {
  return addSettingOptions(command, CONNECTION_SETTINGS, EXPLORER_SETTINGS, "Connection (the worker's settings):");
}

/** Flags win over the environment; an empty environment variable means "not set", as for the worker. */
export function parseConnection(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): { connection: Connection } | { problems: string[] } {
  const result = validateConnection(rawSettings(EXPLORER_SETTINGS, flags, env));
  return result.kind === "ok" ? { connection: result.connection } : { problems: result.problems };
}

/** The same, as a schema over every flag: its problems are reported with those of the other options. */
export const connectionSchema = (env: NodeJS.ProcessEnv) =>
  z.record(z.string(), z.unknown()).transform((flags, ctx) => {
    const parsed = parseConnection(flags, env);
    if ("connection" in parsed) return { connection: parsed.connection };
    for (const message of parsed.problems) ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
