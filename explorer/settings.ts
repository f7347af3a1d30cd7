// The connection settings the explorer and the dead-letter CLI share with the worker: the same environment
// variables and flags (EVENTHUB_NAME <-> --eventhub-name), validated by the worker's own rules, so a setup that
// runs a worker runs these tools too. Every problem is reported at once; callers exit with code 2.
import type { Command } from "commander";
import { z } from "zod";
import { SETTINGS, validateSettings, type SettingName, type WorkerConfig } from "../worker/config";
import { addSettingOptions, rawSettings } from "../worker/settings/declare";

const CONNECTION_SETTINGS = [
  "EVENTHUB_CONNECTION_STRING",
  "EVENTHUB_NAMESPACE",
  "EVENTHUB_NAME",
  "EVENTHUB_CONSUMER_GROUP",
  "STORAGE_CONNECTION_STRING",
  "STORAGE_ACCOUNT_URL",
  "CHECKPOINT_CONTAINER",
  "DEAD_LETTER_CONTAINER",
] as const satisfies readonly SettingName[];

export type Connection = Pick<WorkerConfig, "eventHub" | "storage">;

export function addConnectionOptions(command: Command): Command {
  return addSettingOptions(command, SETTINGS, CONNECTION_SETTINGS, "Connection (the worker's settings):");
}

/** Flags win over the environment; an empty environment variable means "not set", as for the worker. */
export function parseConnection(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): { connection: Connection } | { problems: string[] } {
  const result = validateSettings(rawSettings(CONNECTION_SETTINGS, flags, env));
  if (result.kind === "ok") return { connection: { eventHub: result.config.eventHub, storage: result.config.storage } };
  return { problems: result.kind === "invalid" ? result.problems : ["invalid settings"] };
}

/** The same, as a schema over every flag: its problems are reported with those of the other options. */
export const connectionSchema = (env: NodeJS.ProcessEnv) =>
  z.record(z.string(), z.unknown()).transform((flags, ctx) => {
    const parsed = parseConnection(flags, env);
    if ("connection" in parsed) return { connection: parsed.connection };
    for (const message of parsed.problems) ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
