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

/**
 * The explorer also reads how often the workers write their fleet records: a record is fresh for a few of
 * those intervals, so the explorer must use the workers' value to tell a live replica from one that is gone.
 */
const FLEET_SETTINGS = ["FLEET_SYNC_INTERVAL_MS"] as const satisfies readonly SettingName[];

/** What a tool reads: the connection, and with `fleet` the fleet settings too (their defaults apply otherwise). */
export interface SettingsRead {
  fleet?: boolean;
}

/** `fleet.syncIntervalMs` is the workers' default unless the tool reads the fleet settings. */
export type Connection = Pick<WorkerConfig, "eventHub" | "storage" | "fleet">;

export function addConnectionOptions(command: Command, read: SettingsRead = {}): Command {
  addSettingOptions(command, SETTINGS, CONNECTION_SETTINGS, "Connection (the worker's settings):");
  return read.fleet ? addSettingOptions(command, SETTINGS, FLEET_SETTINGS, "Fleet (the workers' setting):") : command;
}

/** Flags win over the environment; an empty environment variable means "not set", as for the worker. */
export function parseConnection(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, read: SettingsRead = {}): { connection: Connection } | { problems: string[] } {
  const names = read.fleet ? [...CONNECTION_SETTINGS, ...FLEET_SETTINGS] : CONNECTION_SETTINGS;
  const result = validateSettings(rawSettings(names, flags, env));
  if (result.kind === "ok") return { connection: { eventHub: result.config.eventHub, storage: result.config.storage, fleet: result.config.fleet } };
  return { problems: result.kind === "invalid" ? result.problems : ["invalid settings"] };
}

/** The same, as a schema over every flag: its problems are reported with those of the other options. */
export const connectionSchema = (env: NodeJS.ProcessEnv, read: SettingsRead = {}) =>
  z.record(z.string(), z.unknown()).transform((flags, ctx) => {
    const parsed = parseConnection(flags, env, read);
    if ("connection" in parsed) return { connection: parsed.connection };
    for (const message of parsed.problems) ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
