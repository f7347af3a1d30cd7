// The group APIs: FindCoordinator (this broker coordinates every group), JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, DescribeGroups and ListGroups, decoded and encoded per version around the GroupCoordinator.
import type { Writer } from "../codec";
import { NODE_ID, responseWriter, type KafkaRequest } from "../context";
import { ERROR } from "../errors";
import type { Protocol } from "../group-coordinator";

const GROUP_KEY = 0;
const UNKNOWN_OPERATIONS = -2147483648;

export function findCoordinator(request: KafkaRequest): Writer {
  const { body, apiVersion: version, connection } = request;
  let keys: string[];
  let keyType = GROUP_KEY;
  if (version >= 4) {
    keyType = body.int8();
    keys = body.array((r) => r.string());
  } else {
    keys = [body.string()];
    if (version >= 1) keyType = body.int8();
  }
  body.taggedFields();
  // Transactions are not supported: there is no transaction coordinator to find.
  const error = keyType === GROUP_KEY ? ERROR.none : ERROR.transactionalIdAuthorizationFailed;
  const message = error === ERROR.none ? null : "Transactions are not supported by this emulator.";
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  if (version >= 4) {
    return out
      .array(keys, (w, key) => {
        w.string(key).int32(NODE_ID).string(connection.advertisedHost).int32(connection.advertisedPort).int16(error).nullableString(message).taggedFields();
      })
      .taggedFields();
  }
  out.int16(error);
  if (version >= 1) out.nullableString(message);
  return out.int32(NODE_ID).string(connection.advertisedHost).int32(connection.advertisedPort).taggedFields();
}

export async function joinGroup(request: KafkaRequest): Promise<Writer> {
  const { body, apiVersion: version, server, connection } = request;
  const groupId = body.string();
  const sessionTimeoutMs = body.int32();
  const rebalanceTimeoutMs = version >= 1 ? body.int32() : sessionTimeoutMs;
  const memberId = body.string();
  const groupInstanceId = version >= 5 ? body.nullableString() : null;
  const protocolType = body.string();
  const protocols = body.array((r): Protocol => {
    const name = r.string();
    const metadata = Buffer.from(r.bytes());
    r.taggedFields();
    return { name, metadata };
  });
  body.taggedFields();

  const result = await server.coordinator.join({
    groupId,
    memberId,
    groupInstanceId,
    clientId: request.clientId ?? "",
    clientHost: connection.clientHost,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    protocolType,
    protocols,
  });
  const out = responseWriter(request);
  if (version >= 2) out.int32(0);
  out.int16(result.error).int32(result.generationId);
  if (version >= 7) out.nullableString(result.protocolType).nullableString(result.protocolName);
  else out.string(result.protocolName ?? "");
  out.string(result.leader).string(result.memberId);
  out.array(result.members, (w, member) => {
    w.string(member.memberId);
    if (version >= 5) w.nullableString(member.groupInstanceId);
    w.bytes(member.metadata).taggedFields();
  });
  return out.taggedFields();
}

export async function syncGroup(request: KafkaRequest): Promise<Writer> {
  const { body, apiVersion: version, server } = request;
  const groupId = body.string();
  const generationId = body.int32();
  const memberId = body.string();
  if (version >= 3) body.nullableString(); // group instance id
  if (version >= 5) {
    body.nullableString(); // protocol type
    body.nullableString(); // protocol name
  }
  const assignments = new Map<string, Buffer>();
  body.array((r) => {
    const member = r.string();
    assignments.set(member, Buffer.from(r.bytes()));
    r.taggedFields();
  });
  body.taggedFields();

  const result = await server.coordinator.sync(groupId, generationId, memberId, assignments);
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  out.int16(result.error);
  if (version >= 5) out.nullableString(result.protocolType).nullableString(result.protocolName);
  return out.bytes(result.assignment).taggedFields();
}

export function heartbeat(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const groupId = body.string();
  const generationId = body.int32();
  const memberId = body.string();
  if (version >= 3) body.nullableString(); // group instance id
  body.taggedFields();
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  return out.int16(server.coordinator.heartbeat(groupId, generationId, memberId)).taggedFields();
}

export function leaveGroup(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const groupId = body.string();
  let members: Array<{ memberId: string; groupInstanceId: string | null }>;
  if (version >= 3) {
    members = body.array((r) => {
      const memberId = r.string();
      const groupInstanceId = r.nullableString();
      r.taggedFields();
      return { memberId, groupInstanceId };
    });
  } else {
    members = [{ memberId: body.string(), groupInstanceId: null }];
  }
  body.taggedFields();
  const errors = server.coordinator.leave(groupId, members.map((m) => m.memberId));
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  if (version < 3) return out.int16(errors.get(members[0]!.memberId) ?? ERROR.unknownMemberId).taggedFields();
  out.int16(ERROR.none);
  out.array(members, (w, member) => {
    w.string(member.memberId).nullableString(member.groupInstanceId).int16(errors.get(member.memberId) ?? ERROR.unknownMemberId).taggedFields();
  });
  return out.taggedFields();
}

export function describeGroups(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const groupIds = body.array((r) => r.string());
  if (version >= 3) body.bool(); // include authorized operations
  body.taggedFields();
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  out.array(groupIds, (w, groupId) => {
    const group = server.coordinator.describe(groupId);
    w.int16(ERROR.none).string(group.groupId).string(group.state).string(group.protocolType).string(group.protocol);
    w.array(group.members, (m, member) => {
      m.string(member.memberId);
      if (version >= 4) m.nullableString(member.groupInstanceId);
      m.string(member.clientId).string(member.clientHost).bytes(member.metadata).bytes(member.assignment).taggedFields();
    });
    if (version >= 3) w.int32(UNKNOWN_OPERATIONS);
    w.taggedFields();
  });
  return out.taggedFields();
}

export function listGroups(request: KafkaRequest): Writer {
  const { body, apiVersion: version, server } = request;
  const states = version >= 4 ? body.array((r) => r.string()) : [];
  body.taggedFields();
  const active = server.coordinator.list();
  const activeIds = new Set(active.map((g) => g.groupId));
  // Groups that only have committed offsets are listed too, as Kafka lists empty groups.
  const groups = [...active, ...server.offsets.groupIds().filter((id) => !activeIds.has(id)).map((groupId) => ({ groupId, protocolType: "consumer", state: "Empty" }))];
  const wanted = states.length === 0 ? groups : groups.filter((g) => states.some((s) => s.toLowerCase() === g.state.toLowerCase()));
  const out = responseWriter(request);
  if (version >= 1) out.int32(0);
  out.int16(ERROR.none);
  out.array(wanted, (w, group) => {
    w.string(group.groupId).string(group.protocolType);
    if (version >= 4) w.string(group.state);
    w.taggedFields();
  });
  return out.taggedFields();
}
