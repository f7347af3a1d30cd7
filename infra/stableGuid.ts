import { createHash } from "node:crypto";

/** This project's UUID namespace, so its GUIDs never coincide with another tool's name-based GUIDs. */
const NAMESPACE = "0f7d6a52-3c1e-4b8e-9a43-6e2b1d5c8f90";

/**
 * A name-based (version 5, RFC 9562) GUID of the given parts: the same parts always give the same GUID.
 * Role assignments need a GUID as their name; deriving it from scope, role and principal (as Bicep's
 * `guid()` does) keeps repeated `pulumi up`s from replacing them.
 */
export function stableGuid(...parts: readonly string[]): string {
  const bytes = createHash("sha1")
    .update(Buffer.from(NAMESPACE.replace(/-/g, ""), "hex"))
    .update(parts.map((part) => part.toLowerCase()).join("|"))
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
