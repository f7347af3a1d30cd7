// SASL/PLAIN as Event Hubs' Kafka endpoint takes it: the username is `$ConnectionString` and the password
// a namespace or event hub connection string with SharedAccessKeyName and SharedAccessKey. The key is
// checked against the emulator's configured keys (as CBS checks SAS signatures on the AMQP side); a
// connection string with EntityPath grants that hub only. Generated SAS tokens (SharedAccessSignature=)
// are refused: Event Hubs does not accept them on its Kafka endpoint.
import { timingSafeEqual } from "node:crypto";
import type { SasKey } from "../config";

export const PLAIN_MECHANISM = "PLAIN";
export const CONNECTION_STRING_USERNAME = "$ConnectionString";

/** What an authenticated connection may use: every hub, or the one its connection string names. */
export interface KafkaPrincipal {
  /** Lower-cased hub name from EntityPath; undefined for a namespace-level connection string. */
  entityPath: string | undefined;
}

export type SaslOutcome = { ok: true; principal: KafkaPrincipal } | { ok: false; reason: string };

export interface SaslSettings {
  keys: readonly SasKey[];
  /** false (--no-check-signatures): any credentials are accepted; an EntityPath still scopes the connection. */
  checkSignatures: boolean;
}

/** `[authzid] NUL authcid NUL passwd` (RFC 4616). */
function splitPlainToken(token: Buffer): { username: string; password: string } | undefined {
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (second < 0) return undefined;
  return { username: token.toString("utf8", first + 1, second), password: token.toString("utf8", second + 1) };
}

function connectionStringFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return fields;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

const scopeOf = (fields: Map<string, string>): KafkaPrincipal => ({ entityPath: fields.get("entitypath")?.toLowerCase() || undefined });

/** Checks one SASL/PLAIN token; the reason on failure names what was wrong, never the secret. */
export function authenticatePlain(token: Buffer, settings: SaslSettings): SaslOutcome {
  const credentials = splitPlainToken(token);
  if (!credentials) return { ok: false, reason: "The SASL/PLAIN token is malformed (expected authzid NUL username NUL password)." };
  const fields = connectionStringFields(credentials.password);
  if (!settings.checkSignatures) return { ok: true, principal: scopeOf(fields) };
  if (credentials.username !== CONNECTION_STRING_USERNAME) {
    return { ok: false, reason: `Invalid SASL username: use '${CONNECTION_STRING_USERNAME}' with a connection string as the password.` };
  }
  if (fields.has("sharedaccesssignature")) {
    return { ok: false, reason: "SharedAccessSignature connection strings are not supported on the Kafka endpoint; use one with SharedAccessKeyName and SharedAccessKey." };
  }
  const keyName = fields.get("sharedaccesskeyname");
  const keyValue = fields.get("sharedaccesskey");
  if (!keyName || keyValue === undefined) {
    return { ok: false, reason: "The password is not an Event Hubs connection string with SharedAccessKeyName and SharedAccessKey." };
  }
  const key = settings.keys.find((k) => k.name === keyName);
  if (!key) return { ok: false, reason: `The SharedAccessKeyName '${keyName}' is not known to this namespace.` };
  if (!sameSecret(keyValue, key.key)) return { ok: false, reason: `Invalid SharedAccessKey for '${keyName}'.` };
  return { ok: true, principal: scopeOf(fields) };
}

/** Whether the principal may use the hub (topic) `hub`. */
export function mayUse(principal: KafkaPrincipal, hub: string): boolean {
  return principal.entityPath === undefined || principal.entityPath === hub.toLowerCase();
}
