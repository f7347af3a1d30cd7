// AMQP error conditions and the service's description texts (spec §3.3, §4.2, §4.5, §5.2-§5.4, §7),
// chosen so that @azure/event-hubs maps each to the same error class it gets from Azure.
import type { AmqpError } from "rhea";

export const CONDITION = {
  notFound: "amqp:not-found",
  argumentOutOfRange: "com.microsoft:argument-out-of-range",
  unauthorized: "amqp:unauthorized-access",
  messageSizeExceeded: "amqp:link:message-size-exceeded",
  stolen: "amqp:link:stolen",
  resourceLimitExceeded: "amqp:resource-limit-exceeded",
  notImplemented: "amqp:not-implemented",
  detachForced: "amqp:link:detach-forced",
  connectionForced: "amqp:connection:forced",
  framingError: "amqp:connection:framing-error",
  internalError: "amqp:internal-error",
  decodeError: "amqp:decode-error",
  argumentError: "com.microsoft:argument-error",
  serverBusy: "com.microsoft:server-busy",
} as const;

export const MAX_READERS_PER_PARTITION = 5;

const error = (condition: string, description: string): AmqpError => ({ condition, description });

/** Matches the SDK's `/The messaging entity .* could not be found/` so it raises MessagingEntityNotFoundError. */
export const entityNotFound = (entity: string): AmqpError =>
  error(CONDITION.notFound, `The messaging entity '${entity}' could not be found.`);

/** The service's tracker form of a consumer group entity: `<ns>:eventhub:<hub>~32766|<cg>`. */
export const consumerGroupEntity = (namespace: string, hub: string, consumerGroup: string): string =>
  `${namespace}:eventhub:${hub}~32766|${consumerGroup}`;

export const invalidPartition = (): AmqpError =>
  error(CONDITION.argumentOutOfRange, "The specified partition is invalid for an EventHub partition sender or receiver.");

export const messageTooLarge = (deliveryId: number, size: number, limit: number): AmqpError =>
  error(
    CONDITION.messageSizeExceeded,
    `The received message (delivery-id:${deliveryId}, size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.`,
  );

export const unauthorized = (reason: string): AmqpError => error(CONDITION.unauthorized, reason);

export const positionOutOfRange = (reason: string): AmqpError => error(CONDITION.argumentOutOfRange, reason);

export const idempotentProducerNotSupported = (): AmqpError =>
  error(CONDITION.notImplemented, "Idempotent publishing (com.microsoft:idempotent-producer) is not supported by this emulator.");

export const unknownAddress = (address: string): AmqpError =>
  error(CONDITION.notFound, `The messaging entity '${address}' could not be found.`);

// ---- receiver exclusivity (spec §5.3); the service prints the receiver name where it has one, else 'nil' ----

export const stolenByHigherEpoch = (newName: string, newEpoch: number, oldName: string, oldEpoch: number | undefined): AmqpError =>
  error(
    CONDITION.stolen,
    `New receiver '${newName}' with higher epoch of '${newEpoch}' is created hence current receiver '${oldName}' with epoch '${oldEpoch ?? 0}' is getting disconnected. If you are recreating the receiver, make sure a higher epoch is used.`,
  );

export const higherEpochExists = (existingName: string, existingEpoch: number, newName: string, newEpoch: number): AmqpError =>
  error(
    CONDITION.stolen,
    `Receiver '${existingName}' with a higher epoch '${existingEpoch}' already exists. Receiver '${newName}' with epoch ${newEpoch} cannot be created. Make sure you are creating receiver with increasing epoch value to ensure connectivity, or ensure all old epoch receivers are closed or disconnected.`,
  );

export const nonEpochNotAllowed = (existingEpoch: number): AmqpError =>
  error(
    CONDITION.stolen,
    `At least one receiver for the endpoint is created with epoch of '${existingEpoch}', and so non-epoch receiver is not allowed. Either reconnect with a higher epoch, or make sure all epoch receivers are closed or disconnected.`,
  );

export const tooManyReaders = (connectedNames: string[]): AmqpError =>
  error(
    CONDITION.resourceLimitExceeded,
    `Exceeded the maximum number of allowed receivers per partition in a consumer group which is ${MAX_READERS_PER_PARTITION}. List of connected receivers - ${connectedNames.join(", ")}.`,
  );
