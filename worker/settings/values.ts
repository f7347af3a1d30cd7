// Value parsers for settings: each turns the raw text of an environment variable or flag into a typed value,
// or reports one "allowed: <what>" message, so every error reads "NAME (--flag) = value: allowed: <what>".
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEventHubConnectionString } from "@azure/event-hubs";
import { Ajv } from "ajv";
import { z } from "zod";
import { CONTAINER_NAME, CONTAINER_NAME_RULE, ENTITY_NAME_RULE, isConsumerGroupName, isEntityName } from "../../common/names";

/** Parses raw setting text; `undefined` means "not allowed". */
export type SettingValue<T> = z.ZodType<T, string>;

export function parsed<T>(allowed: string, parse: (raw: string) => T | undefined): SettingValue<T> {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `allowed: ${allowed}` });
      return z.NEVER;
    }
    return value;
  });
}

export const integer = (min: number, max: number) =>
  parsed(`an integer from ${min} to ${max}`, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  });

export const oneOf = <const T extends string>(values: readonly T[]) =>
  parsed(values.join(" | "), (raw) => values.find((v) => v === raw.toLowerCase()));

export const matching = (allowed: string, pattern: RegExp) => parsed(allowed, (raw) => (pattern.test(raw) ? raw : undefined));

export const boolean = parsed("true | false", (raw) => ({ true: true, false: false })[raw.toLowerCase()]);

export const text = parsed("a non-empty text", (raw) => (raw.length > 0 ? raw : undefined));

export const containerName = matching(CONTAINER_NAME_RULE, CONTAINER_NAME);

export const entityName = parsed(ENTITY_NAME_RULE, (raw) => (isEntityName(raw) ? raw : undefined));

export const consumerGroupName = parsed(`$Default or ${ENTITY_NAME_RULE}`, (raw) => (isConsumerGroupName(raw) ? raw : undefined));

export const hostName = parsed("a fully qualified host name such as myns.servicebus.windows.net", (raw) => {
  const host = raw.replace(/^(sb|https?):\/\//i, "").replace(/\/+$/, "");
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:\d+)?$/.test(host)
    ? host
    : undefined;
});

/** An http(s) URL, without trailing slashes. */
export const httpUrl = (example: string) =>
  parsed(`an http(s) URL such as ${example}`, (raw) => {
    if (!URL.canParse(raw)) return undefined;
    const url = new URL(raw);
    return url.protocol === "https:" || url.protocol === "http:" ? raw.replace(/\/+$/, "") : undefined;
  });

/** The connection string as given, and its EntityPath (the hub) when it has one. */
export const eventHubConnectionString = parsed(
  "Endpoint=sb://<namespace>/;SharedAccessKeyName=<name>;SharedAccessKey=<key>[;EntityPath=<hub>]",
  (raw) => {
    try {
      const parts = parseEventHubConnectionString(raw);
      const hasKey = parts.sharedAccessKey !== undefined && parts.sharedAccessKeyName !== undefined;
      return hasKey || parts.sharedAccessSignature !== undefined ? { raw, entityPath: parts.eventHubName } : undefined;
    } catch {
      return undefined;
    }
  },
);

export const storageConnectionString = parsed(
  "DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>;... (or UseDevelopmentStorage=true)",
  (raw) => {
    const fields = new Map(
      raw.split(";").filter(Boolean).map((part) => {
        const at = part.indexOf("=");
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1)] as const;
      }),
    );
    const valid =
      fields.get("usedevelopmentstorage") === "true" ||
      (fields.has("accountname") && fields.has("accountkey")) ||
      fields.has("sharedaccesssignature");
    return valid ? raw : undefined;
  },
);

/** A JSON Schema (an object that compiles): written inline, or a path to a file that holds it. */
export const jsonSchema = parsed("a JSON Schema object, inline ({...}) or the path of a readable JSON file holding one", (raw) => {
  try {
    const schema = JSON.parse(raw.startsWith("{") ? raw : readFileSync(resolve(raw), "utf8")) as unknown;
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return undefined;
    new Ajv({ strict: false }).compile(schema);
    return schema as Record<string, unknown>;
  } catch {
    return undefined;
  }
});

/** An existing JavaScript or TypeScript module, as an absolute path. */
export function existingModulePath(raw: string): string | undefined {
  const modulePath = resolve(raw);
  return /\.(c|m)?(j|t)s$/.test(modulePath) && existsSync(modulePath) ? modulePath : undefined;
}
