// A setting is declared once: its name (the key), group, help, value parser, default and whether it is a secret.
// The worker's --help, its validation and typed values, error messages and the settings table in docs/configuration.md derive from it.
import { Option, type Command } from "commander";
import { z } from "zod";
import type { SettingValue } from "./values";
import { plural } from "../../common/plural";

export interface Setting {
  /** Heading under which --help and docs/configuration.md list the setting. */
  group: string;
  help: string;
  value: SettingValue<unknown>;
  /** The default as raw text, parsed like a value that was set; --help and docs/configuration.md show it. */
  default?: string;
  /** Shown instead of `default` where the real default is derived (from other settings or the machine). */
  defaultShown?: string;
  /** Never echo the value in error messages. */
  secret?: boolean;
}

export type Settings = Record<string, Setting>;

/** The typed values of a set of settings: settings with a default always have a value. */
export type Values<S extends Settings> = {
  [K in keyof S]: S[K] extends { default: string } ? z.output<S[K]["value"]> : z.output<S[K]["value"]> | undefined;
};

/** The raw text of settings that were set (environment or flags). */
export type RawSettings<Name extends string = string> = Partial<Record<Name, string>>;

/** A setting's name and what is wrong with it. */
export type Problem = readonly [name: string, message: string];

export function flagOf(name: string): string {
  return `--${name.toLowerCase().replaceAll("_", "-")}`;
}

/** The zod object that parses every setting's raw text, applying defaults. */
export function schemaOf(settings: Settings): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, setting] of Object.entries(settings)) {
    shape[name] = setting.default === undefined ? setting.value.optional() : setting.value.prefault(setting.default);
  }
  return z.object(shape);
}

/** What --help and error messages show as the default, if there is one. */
export function shownDefault(setting: Setting): string | undefined {
  return setting.defaultShown ?? setting.default;
}

/** The value as an error message shows it: secrets hidden, an unset value with its default. */
export function describeValue(setting: Setting, raw: string | undefined): string {
  if (raw === undefined) {
    const fallback = setting.default ?? setting.defaultShown;
    return fallback === undefined ? "(not set)" : `(not set, so the default ${fallback})`;
  }
  return setting.secret ? `(${plural(raw.length, "character")}, hidden)` : JSON.stringify(raw);
}

/**
 * Checks raw settings against their declarations and reports every problem at once, one message each (the name,
 * the flag, the value unless secret, what is wrong): the presence rules (`missing`, on the raw text) with the values'
 * own errors; then, once every value parses, the rules between values (`conflicts`).
 */
export function checkSettings<S extends Settings>(
  settings: S,
  raw: RawSettings,
  rules: { missing: Problem[]; conflicts: (values: Values<S>) => Problem[] },
): { kind: "ok"; values: Values<S> } | { kind: "invalid"; problems: string[] } {
  const result = schemaOf(settings).safeParse(raw);
  const values = result.data as Values<S> | undefined;
  const problems: Problem[] = values
    ? [...rules.missing, ...rules.conflicts(values)]
    : [...rules.missing, ...(result.error?.issues ?? []).map((issue): Problem => [String(issue.path[0]), issue.message])];
  if (values && problems.length === 0) return { kind: "ok", values };
  return {
    kind: "invalid",
    problems: problems.map(([name, message]) => `${name} (${flagOf(name)}) = ${describeValue(settings[name] as Setting, raw[name])}: ${message}`),
  };
}

/**
 * Joins sets of settings into one, in order. A name may appear in several sets (settings shared by two
 * processors) only as the very same declaration, so two modules cannot declare one name differently.
 */
export function mergeSettings(sets: readonly Settings[]): Settings {
  const merged: Settings = {};
  for (const set of sets) {
    for (const [name, setting] of Object.entries(set)) {
      if (merged[name] !== undefined && merged[name] !== setting) throw new Error(`setting ${name} is declared twice, differently`);
      merged[name] = setting;
    }
  }
  return merged;
}

/** The settings table of docs/configuration.md (npm run settings-table): one row per setting under its group's heading. */
export function settingsTable(settings: Settings): string {
  // Markdown: "|" would end the cell, and "<name>" would read as an HTML tag and vanish.
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const rows = ["| Env var | Default | Meaning |", "| --- | --- | --- |"];
  let group: string | undefined;
  for (const [name, setting] of Object.entries(settings)) {
    if (setting.group !== group) {
      group = setting.group;
      rows.push(`| **${cell(group.replace(/:$/, ""))}** | | |`);
    }
    const fallback =
      setting.defaultShown !== undefined ? cell(setting.defaultShown) : setting.default !== undefined ? `\`${cell(setting.default)}\`` : "—";
    rows.push(`| \`${name}\` | ${fallback} | ${cell(setting.help)} |`);
  }
  return rows.join("\n");
}

/** Adds one `--flag <value>` per setting, its help naming the default and the environment variable. */
export function addSettingOptions(command: Command, settings: Settings, names: readonly string[], group?: string): Command {
  for (const name of names) {
    const setting = settings[name]!;
    const fallback = shownDefault(setting);
    const shown = fallback === undefined ? "" : ` (default: ${fallback})`;
    command.addOption(new Option(`${flagOf(name)} <value>`, `${setting.help}${shown} [env: ${name}]`).helpGroup(group ?? setting.group));
  }
  return command;
}

/**
 * The raw settings from parsed flags and the environment: a flag wins; an empty environment variable means
 * "not set", as in most deployment tools.
 */
export function rawSettings<Name extends string>(names: readonly Name[], flags: Record<string, unknown>, env: NodeJS.ProcessEnv): RawSettings<Name> {
  const raw: RawSettings<Name> = {};
  for (const name of names) {
    const fromFlag = flags[new Option(flagOf(name)).attributeName()];
    if (typeof fromFlag === "string") raw[name] = fromFlag;
    else if (env[name] !== undefined && env[name] !== "") raw[name] = env[name];
  }
  return raw;
}
