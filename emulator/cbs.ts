// Claims-based security (spec §2): `put-token` requests on the `$cbs` node, SAS signature checks, and
// the per-connection record of which audiences a client has proven access to.
import { createHmac, timingSafeEqual } from "node:crypto";
import { types, type Message } from "rhea";
import type { SasKey } from "./config";
import { audiencePath, pathCovers } from "./entity-address";
import { CONDITION } from "./service-errors";

export const SAS_TOKEN_TYPE = "servicebus.windows.net:sastoken";

export type TokenCheck = { ok: true; expiresAtMs: number } | { ok: false; reason: string };

interface SasFields {
  sr: string; // as received, still URL-encoded: the signature covers these exact characters
  sig: string;
  se: string;
  skn: string;
}

function parseSasToken(token: string): SasFields | undefined {
  const prefix = "SharedAccessSignature ";
  if (!token.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).trim().split("&")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const [sr, sig, se, skn] = ["sr", "sig", "se", "skn"].map((name) => fields.get(name));
  return sr && sig && se && skn ? { sr, sig, se, skn } : undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Checks a SAS token for `audience`: a known key name, an HMAC-SHA256 signature over `sr + "\n" + se`
 * with that key (its UTF-8 bytes as written), an expiry in the future, and a resource `sr` that
 * covers the audience.
 */
export function verifySasToken(token: string, audience: string, keys: SasKey[], nowMs: number): TokenCheck {
  const fields = parseSasToken(token);
  if (!fields) return { ok: false, reason: "The token is not a SharedAccessSignature with sr, sig, se and skn." };
  const keyName = safeDecode(fields.skn);
  const key = keys.find((k) => k.name === keyName);
  if (!key) return { ok: false, reason: `The SharedAccessKeyName '${keyName ?? fields.skn}' is not known to this namespace.` };

  const expected = createHmac("sha256", key.key).update(`${fields.sr}\n${fields.se}`).digest();
  const given = Buffer.from(safeDecode(fields.sig) ?? "", "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "InvalidSignature: The token has an invalid signature." };
  }
  const expirySeconds = Number(fields.se);
  if (!Number.isSafeInteger(expirySeconds)) return { ok: false, reason: `The token expiry '${fields.se}' is not a number.` };
  if (expirySeconds * 1000 <= nowMs) return { ok: false, reason: `ExpiredToken: The token expired at ${new Date(expirySeconds * 1000).toISOString()}.` };

  const resource = safeDecode(fields.sr);
  const resourcePath = resource === undefined ? undefined : audiencePath(resource);
  if (resourcePath === undefined) {
    return { ok: false, reason: `InvalidAudience: The token's resource '${resource ?? fields.sr}' is not a URI of this namespace (sb://<host>/<entity path>).` };
  }
  const wanted = audiencePath(audience);
  if (wanted === undefined || !pathCovers(resourcePath, wanted)) {
    return { ok: false, reason: `InvalidAudience: The token's resource '${resource}' does not cover '${audience}'.` };
  }
  return { ok: true, expiresAtMs: expirySeconds * 1000 };
}

/** Audiences a connection holds valid tokens for; checked when links attach. */
export class ConnectionGrants {
  private readonly grants = new Map<string, number>(); // audience path -> expiry in ms

  /** Records a verified audience; one that is not a URI grants nothing. */
  grant(audience: string, expiresAtMs: number): void {
    const path = audiencePath(audience);
    if (path === undefined) return;
    this.grants.set(path, Math.max(expiresAtMs, this.grants.get(path) ?? 0));
  }

  /** True when a granted, unexpired audience covers the entity path (e.g. `events/partitions/0`). */
  covers(entityPath: string, nowMs: number): boolean {
    const wanted = entityPath.toLowerCase();
    for (const [granted, expiresAtMs] of this.grants) {
      if (expiresAtMs > nowMs && pathCovers(granted, wanted)) return true;
    }
    return false;
  }
}

export interface CbsSettings {
  keys: SasKey[];
  checkSignatures: boolean;
}

function reply(request: Message, status: number, description: string, condition?: string): Message {
  const properties: Record<string, unknown> = {
    "status-code": types.wrap_int(status),
    "status-description": description,
  };
  if (condition) properties["error-condition"] = types.wrap_symbol(condition); // a symbol, as Azure sends it
  return { correlation_id: request.message_id, to: request.reply_to, application_properties: properties, body: undefined };
}

const NO_EXPIRY = Number.MAX_SAFE_INTEGER;

/** Handles one `$cbs` request; records the grant on success and returns the reply to send. */
export function handleCbsRequest(request: Message, grants: ConnectionGrants, settings: CbsSettings, nowMs: number): Message {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (props.operation !== "put-token") {
    return reply(request, 400, `Unsupported CBS operation '${String(props.operation)}'; only put-token is supported.`, CONDITION.argumentError);
  }
  const audience = props.name;
  const token = request.body;
  if (typeof audience !== "string" || typeof token !== "string") {
    return reply(request, 400, "put-token needs a string 'name' (the audience) and a string body (the token).", CONDITION.argumentError);
  }
  if (!settings.checkSignatures) {
    grants.grant(audience, NO_EXPIRY);
    return reply(request, 202, "Accepted");
  }
  if (props.type !== SAS_TOKEN_TYPE) {
    return reply(request, 401, `Token type '${String(props.type)}' cannot be verified by this emulator; use a SharedAccessKey connection string.`, CONDITION.unauthorized);
  }
  const check = verifySasToken(token, audience, settings.keys, nowMs);
  if (!check.ok) return reply(request, 401, check.reason, CONDITION.unauthorized);
  grants.grant(audience, check.expiresAtMs);
  return reply(request, 202, "Accepted");
}
