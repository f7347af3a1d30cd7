// Link addresses and CBS audiences of Event Hubs entities (spec §2.5, §4.1, §5.1).
//   <hub>                                        producer, the service picks the partition
//   <hub>/Partitions/<id>                        producer to one partition
//   <hub>/ConsumerGroups/<cg>/Partitions/<id>    consumer
// Audiences are the same paths behind `sb://host[:port]/`.

export type EntityAddress =
  | { kind: "hub"; hub: string }
  | { kind: "partition"; hub: string; partitionId: string }
  | { kind: "consumer"; hub: string; consumerGroup: string; partitionId: string };

/** An address written as a URI (`amqps://host[:port]/<path>`, as the Python SDK sends): scheme and host. */
const URI_PREFIX = /^[a-z][a-z0-9+.-]*:\/\/[^/]*\//i;

/**
 * Parses a sender target or receiver source address, bare or as a URI of this namespace (Azure accepts
 * both); undefined when it is none of the shapes above.
 */
export function parseEntityAddress(address: string): EntityAddress | undefined {
  const parts = address.replace(URI_PREFIX, "").split("/");
  const [hub, second, third, fourth, fifth] = parts;
  if (!hub) return undefined;
  if (parts.length === 1) return { kind: "hub", hub };
  if (parts.length === 3 && second?.toLowerCase() === "partitions" && third) {
    return { kind: "partition", hub, partitionId: third };
  }
  if (parts.length === 5 && second?.toLowerCase() === "consumergroups" && third && fourth?.toLowerCase() === "partitions" && fifth) {
    return { kind: "consumer", hub, consumerGroup: third, partitionId: fifth };
  }
  return undefined;
}

/**
 * The entity path of an audience or SAS resource URI, lower-cased and without scheme, host or trailing
 * slash: `sb://127.0.0.1:5672/events/Partitions/0` -> `events/partitions/0`; undefined when it is not
 * a URI (Azure matches resource URIs: a bare `otherhub` names no namespace, and must not read as the
 * whole one). The host is ignored on purpose: a local emulator is the same namespace whether reached
 * as localhost or 127.0.0.1.
 */
export function audiencePath(uri: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(\/.*)?$/i.exec(uri.trim());
  if (!match) return undefined;
  return (match[1] ?? "").replace(/^\/+|\/+$/g, "").toLowerCase();
}

/** True when a token for path `granted` covers entity path `wanted` (equal, or a parent on a `/` boundary). */
export function pathCovers(granted: string, wanted: string): boolean {
  return granted === "" || wanted === granted || wanted.startsWith(`${granted}/`);
}
