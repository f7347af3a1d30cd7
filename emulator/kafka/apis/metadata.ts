// Metadata (v0-v12) and CreateTopics. Topics are the namespace's event hubs and partitions their
// partitions, all led by the one broker: the address the client connected to, so a client reaching the
// emulator through any interface or port is told that same address (a Kafka client failing on
// metadata is the best-known defect of Microsoft's emulator, which advertises a fixed port). Topics are
// never auto-created; hubs come from the emulator's configuration, as on Microsoft's emulator.
import { createHash } from "node:crypto";
import type { Reader, Writer } from "../codec";
import { NODE_ID, responseWriter, type KafkaRequest } from "../context";
import { ERROR } from "../errors";
import { mayUse } from "../sasl-plain";

/** A stable topic id per hub (Metadata v10+), derived from the namespace and hub names. */
export function topicId(namespace: string, hub: string): Buffer {
  return createHash("sha256").update(`${namespace}/${hub.toLowerCase()}`).digest().subarray(0, 16);
}

interface RequestedTopic {
  name: string | null;
}

function readTopics(body: Reader, version: number): RequestedTopic[] | null {
  const topics = body.nullableArray((r) => {
    if (version >= 10) r.uuid();
    const name = version >= 12 ? r.nullableString() : r.string();
    r.taggedFields();
    return { name };
  });
  // v0 has no null: an empty list means every topic.
  return version === 0 && topics?.length === 0 ? null : topics;
}

export function metadata(request: KafkaRequest): Writer {
  const { body, apiVersion: version, connection, server } = request;
  const requested = readTopics(body, version);
  if (version >= 4) body.bool(); // allow auto topic creation: Event Hubs does not create hubs on demand
  if (version >= 8 && version <= 10) body.bool(); // include cluster authorized operations
  if (version >= 8) body.bool(); // include topic authorized operations
  body.taggedFields();

  const principal = connection.principal!;
  const { namespace } = server;
  const names = requested === null ? namespace.hubNames.filter((hub) => mayUse(principal, hub)) : requested.map((t) => t.name ?? "");

  const out = responseWriter(request);
  if (version >= 3) out.int32(0); // throttle time
  out.array([NODE_ID], (w, nodeId) => {
    w.int32(nodeId).string(connection.advertisedHost).int32(connection.advertisedPort);
    if (version >= 1) w.nullableString(null); // rack
    w.taggedFields();
  });
  if (version >= 2) out.nullableString(namespace.name); // cluster id
  if (version >= 1) out.int32(NODE_ID); // controller
  out.array(names, (w, name) => {
    const hub = namespace.hub(name);
    const error = !hub ? ERROR.unknownTopicOrPartition : mayUse(principal, name) ? ERROR.none : ERROR.topicAuthorizationFailed;
    const partitions = error === ERROR.none ? hub!.partitionIds : [];
    w.int16(error).nullableString(name);
    if (version >= 10) w.raw(error === ERROR.none ? topicId(namespace.name, name) : Buffer.alloc(16));
    if (version >= 1) w.bool(false); // internal
    w.array(partitions, (p, id) => {
      p.int16(ERROR.none).int32(Number(id)).int32(NODE_ID);
      if (version >= 7) p.int32(0); // leader epoch
      p.array([NODE_ID], (r, node) => r.int32(node)); // replicas
      p.array([NODE_ID], (r, node) => r.int32(node)); // in-sync replicas
      if (version >= 5) p.array([] as number[], (r, node) => r.int32(node)); // offline replicas
      p.taggedFields();
    });
    if (version >= 8) w.int32(-2147483648); // topic authorized operations: not computed
    w.taggedFields();
  });
  if (version >= 8 && version <= 10) out.int32(-2147483648); // cluster authorized operations: not computed
  return out.taggedFields();
}

/**
 * CreateTopics: hubs are defined by the emulator's configuration, so an existing hub is reported as
 * existing and a new one is refused with POLICY_VIOLATION saying where hubs are declared.
 */
export function createTopics(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const names = body.array((r) => {
    const name = r.string();
    r.int32(); // partitions
    r.int16(); // replication factor
    r.array((a) => {
      a.int32();
      a.array((b) => b.int32());
    });
    r.array((c) => {
      c.string();
      c.nullableString();
    });
    return name;
  });
  body.int32(); // timeout
  if (version >= 1) body.bool(); // validate only
  const out = responseWriter(request);
  if (version >= 2) out.int32(0);
  return out.array(names, (w, name) => {
    const exists = server.namespace.hub(name) !== undefined;
    w.string(name).int16(exists ? 36 /* TOPIC_ALREADY_EXISTS */ : ERROR.policyViolation);
    if (version >= 1) {
      w.nullableString(exists
        ? `Event hub '${name}' already exists.`
        : `Event hubs are defined in the emulator's configuration (--config); '${name}' cannot be created over Kafka.`);
    }
  });
}
