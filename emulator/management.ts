// The `$management` node (spec §3): READ of hub and partition properties, with every field
// @azure/event-hubs v6 reads and the service's status codes and error conditions.
import { types, type Message } from "rhea";
import type { ConnectionGrants } from "./cbs";
import type { EventHubsNamespace, Hub } from "./namespace";
import { CONDITION } from "./service-errors";

export const HUB_TYPE = "com.microsoft:eventhub";
export const PARTITION_TYPE = "com.microsoft:partition";

export interface ManagementContext {
  namespace: EventHubsNamespace;
  grants: ConnectionGrants;
  checkSignatures: boolean;
  nowMs: number;
}

function reply(request: Message, status: number, description: string, condition?: string, body?: Record<string, unknown>): Message {
  const properties: Record<string, unknown> = {
    "status-code": types.wrap_int(status),
    "status-description": description,
  };
  if (condition) properties["error-condition"] = types.wrap_symbol(condition); // a symbol, as Azure sends it
  const message: Message = { correlation_id: request.message_id, to: request.reply_to, application_properties: properties, body: undefined };
  if (body) message.body = body;
  return message;
}

function hubProperties(hub: Hub): Record<string, unknown> {
  return {
    name: hub.name,
    type: HUB_TYPE,
    created_at: hub.createdAt,
    partition_count: types.wrap_int(hub.partitionIds.length),
    partition_ids: types.wrap_array(hub.partitionIds, 0xa1, undefined),
    georeplication_factor: types.wrap_int(1),
  };
}

function partitionProperties(hub: Hub, partitionId: string): Record<string, unknown> | undefined {
  const log = hub.partition(partitionId);
  if (!log) return undefined;
  const last = log.lastEnqueued;
  return {
    name: hub.name,
    partition: log.partitionId,
    type: PARTITION_TYPE,
    begin_sequence_number: types.wrap_long(log.beginSequenceNumber),
    last_enqueued_sequence_number: types.wrap_long(last?.sequenceNumber ?? -1),
    last_enqueued_offset: last ? String(last.offset) : "-1",
    last_enqueued_time_utc: new Date(last?.enqueuedTimeMs ?? 0),
    is_partition_empty: log.isEmpty,
  };
}

/** Handles one `$management` request and returns the reply to send. */
export function handleManagementRequest(request: Message, context: ManagementContext): Message {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  const { operation, type, name: hubName, partition } = props;
  if (operation !== "READ" || (type !== HUB_TYPE && type !== PARTITION_TYPE)) {
    return reply(request, 400, `Unsupported management request: operation '${String(operation)}', type '${String(type)}'. Only READ of ${HUB_TYPE} and ${PARTITION_TYPE} is supported.`, CONDITION.argumentError);
  }
  if (typeof hubName !== "string" || hubName === "") {
    return reply(request, 400, "The management request has no event hub 'name'.", CONDITION.argumentError);
  }
  if (context.checkSignatures && !context.grants.covers(`${hubName}/$management`, context.nowMs)) {
    return reply(request, 401, `Unauthorized access. No valid token for '${hubName}/$management' was put on this connection.`, CONDITION.unauthorized);
  }
  const hub = context.namespace.hub(hubName);
  if (!hub) {
    return reply(request, 404, `The messaging entity '${context.namespace.name}:eventhub:${hubName}' could not be found.`, CONDITION.notFound);
  }
  if (type === HUB_TYPE) return reply(request, 200, "OK", undefined, hubProperties(hub));

  const properties = typeof partition === "string" ? partitionProperties(hub, partition) : undefined;
  if (!properties) {
    return reply(request, 400, "The specified partition is invalid for an EventHub partition sender or receiver.", CONDITION.argumentOutOfRange);
  }
  return reply(request, 200, "OK", undefined, properties);
}
