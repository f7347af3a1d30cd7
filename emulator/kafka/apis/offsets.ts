// OffsetCommit (v0-v8) and OffsetFetch (v0-v7): committed offsets per (group, topic, partition), checked
// against the group's generation, limited to 1024 bytes of metadata as on Event Hubs, and persisted with
// the data directory (OffsetStore).
import type { Writer } from "../codec";
import { responseWriter, type KafkaRequest, type KafkaServerContext } from "../context";
import { ERROR } from "../errors";
import { mayUse, type KafkaPrincipal } from "../sasl-plain";

/** Event Hubs' limit on offset.metadata.max.bytes. */
export const MAX_OFFSET_METADATA_BYTES = 1024;

interface CommitPartition {
  index: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

/** The hub's configured name when the principal may use the partition; else the error. */
function topicCheck(server: KafkaServerContext, principal: KafkaPrincipal, topic: string, partition: number): { hub: string } | { error: number } {
  const hub = server.namespace.hub(topic);
  if (!hub) return { error: ERROR.unknownTopicOrPartition };
  if (!mayUse(principal, topic)) return { error: ERROR.topicAuthorizationFailed };
  if (!hub.partition(String(partition))) return { error: ERROR.unknownTopicOrPartition };
  return { hub: hub.name };
}

export function offsetCommit(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server, connection } = request;
  const groupId = body.string();
  const generationId = version >= 1 ? body.int32() : -1;
  const memberId = version >= 1 ? body.string() : "";
  if (version >= 7) body.nullableString(); // group instance id
  if (version >= 2 && version <= 4) body.int64(); // retention time
  const topics = body.array((topic) => {
    const name = topic.string();
    const partitions = topic.array((p): CommitPartition => {
      const index = p.int32();
      const offset = p.int64();
      const leaderEpoch = version >= 6 ? p.int32() : -1;
      if (version === 1) p.int64(); // commit timestamp
      const metadata = p.nullableString();
      p.taggedFields();
      return { index, offset, leaderEpoch, metadata };
    });
    topic.taggedFields();
    return { name, partitions };
  });
  body.taggedFields();

  const groupError = groupId === "" ? ERROR.invalidGroupId : server.coordinator.commitError(groupId, generationId, memberId);
  const out = responseWriter(request);
  if (version >= 3) out.int32(0);
  out.array(topics, (w, topic) => {
    w.string(topic.name);
    w.array(topic.partitions, (p, partition) => {
      let error: number = groupError;
      if (error === ERROR.none) {
        const checked = topicCheck(server, connection.principal!, topic.name, partition.index);
        if ("error" in checked) error = checked.error;
        else if (Buffer.byteLength(partition.metadata ?? "", "utf8") > MAX_OFFSET_METADATA_BYTES) error = ERROR.offsetMetadataTooLarge;
        else {
          server.offsets.commit(groupId, checked.hub, partition.index, {
            offset: partition.offset,
            leaderEpoch: partition.leaderEpoch,
            metadata: partition.metadata,
            commitTimestampMs: server.now(),
          });
        }
      }
      p.int32(partition.index).int16(error).taggedFields();
    });
    w.taggedFields();
  });
  return out.taggedFields();
}

export function offsetFetch(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server, connection } = request;
  const groupId = body.string();
  const requested = body.nullableArray((topic) => {
    const name = topic.string();
    const partitions = topic.array((p) => p.int32());
    topic.taggedFields();
    return { name, partitions };
  });
  if (version >= 7) body.bool(); // require stable: no transactions, offsets are always stable
  body.taggedFields();

  const principal = connection.principal!;
  // null (v2+): every topic the group committed for.
  const topics = requested ?? [...server.offsets.committed(groupId)].filter(([topic]) => mayUse(principal, topic)).map(([name, partitions]) => ({ name, partitions: [...partitions.keys()] }));
  const out = responseWriter(request);
  if (version >= 3) out.int32(0);
  out.array(topics, (w, topic) => {
    w.string(topic.name);
    w.array(topic.partitions, (p, index) => {
      const checked = topicCheck(server, principal, topic.name, index);
      const committed = "hub" in checked ? server.offsets.get(groupId, checked.hub, index) : undefined;
      p.int32(index).int64(committed?.offset ?? -1);
      if (version >= 5) p.int32(committed?.leaderEpoch ?? -1);
      p.nullableString(committed?.metadata ?? "").int16("error" in checked ? checked.error : ERROR.none).taggedFields();
    });
    w.taggedFields();
  });
  if (version >= 2) out.int16(ERROR.none);
  return out.taggedFields();
}
