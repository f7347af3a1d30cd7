// Producer links (spec §4): the client sends to `<hub>` or `<hub>/Partitions/<id>`. Each transfer is a
// batch envelope (format 0x80013700) or a plain message; every event keeps its original bytes, a batch
// goes whole into one partition, and each delivery is explicitly accepted or rejected.
import type { AmqpError, EventContext, Receiver } from "rhea";
import { AmqpDecodeError } from "./amqp-codec";
import { BATCH_MESSAGE_FORMAT, partitionKeyOf, unpackBatchEnvelope } from "./amqp-message";
import type { LinkContext } from "./broker-context";
import type { EntityAddress } from "./entity-address";
import { messageBytes, messageFormat, oversizedDelivery } from "./rhea-internals";
import {
  CONDITION,
  entityNotFound,
  idempotentProducerNotSupported,
  invalidPartition,
  messageTooLarge,
  unauthorized,
} from "./service-errors";

const IDEMPOTENT_PRODUCER = "com.microsoft:idempotent-producer";

type ProducerAddress = Extract<EntityAddress, { kind: "hub" | "partition" }>;

function capabilities(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function attachRefusal(receiver: Receiver, address: ProducerAddress, context: LinkContext): AmqpError | undefined {
  if (capabilities(receiver.desired_capabilities).includes(IDEMPOTENT_PRODUCER)) return idempotentProducerNotSupported();
  const path = address.kind === "hub" ? address.hub : `${address.hub}/Partitions/${address.partitionId}`;
  if (!context.authorized(path)) return unauthorized(`Unauthorized access. No valid token for '${path}' was put on this connection.`);
  const hub = context.namespace.hub(address.hub);
  if (!hub) return entityNotFound(`${context.namespace.name}:eventhub:${address.hub}`);
  if (address.kind === "partition" && !hub.partition(address.partitionId)) return invalidPartition();
  return undefined;
}

/**
 * The stored events are views into the envelope, so it must not share memory with rhea's read
 * buffers. A multi-frame transfer arrives already concatenated into a buffer of its own; anything
 * else (a view into a socket chunk or the buffer pool) is copied once.
 */
function ownedCopy(envelope: Buffer): Buffer {
  const ownsItsMemory = envelope.byteOffset === 0 && envelope.length === envelope.buffer.byteLength;
  return ownsItsMemory ? envelope : Buffer.from(envelope);
}

interface IncomingEvents {
  events: Buffer[];
  partitionKey: string | undefined;
}

/** The events of one transfer, or the error to reject it with. */
function readTransfer(event: EventContext, maxBytes: number): IncomingEvents | AmqpError {
  const format = messageFormat(event);
  const deliveryId = event.delivery?.id ?? 0;
  const droppedBytes = oversizedDelivery(event.delivery);
  if (droppedBytes !== undefined) return messageTooLarge(deliveryId, droppedBytes, maxBytes);
  const bytes = messageBytes(event); // the broker has rhea hand every message over undecoded
  if (!bytes || (format !== 0 && format !== BATCH_MESSAGE_FORMAT)) {
    return { condition: CONDITION.decodeError, description: `Unsupported message format ${format}.` };
  }
  if (bytes.length > maxBytes) return messageTooLarge(deliveryId, bytes.length, maxBytes);
  if (format === BATCH_MESSAGE_FORMAT) return unpackBatchEnvelope(ownedCopy(bytes));
  // A plain message is one event, kept byte for byte (partitionKeyOf validates its sections).
  const single = ownedCopy(bytes);
  return { events: [single], partitionKey: partitionKeyOf(single) };
}

function isAmqpError(value: IncomingEvents | AmqpError): value is AmqpError {
  return "condition" in value;
}

function accept(event: EventContext, address: ProducerAddress, context: LinkContext): AmqpError | undefined {
  const injected = context.faults.takeSendRejection();
  if (injected) return injected;
  let incoming: IncomingEvents | AmqpError;
  try {
    incoming = readTransfer(event, context.config.maxMessageBytes);
  } catch (err) {
    if (err instanceof AmqpDecodeError) return { condition: CONDITION.decodeError, description: `The message could not be decoded: ${err.message}` };
    throw err;
  }
  if (isAmqpError(incoming)) return incoming;

  const hub = context.namespace.hub(address.hub);
  if (!hub) return entityNotFound(`${context.namespace.name}:eventhub:${address.hub}`);
  let partitionId: string;
  if (address.kind === "partition") partitionId = address.partitionId;
  else if (incoming.partitionKey !== undefined) partitionId = hub.partitionForKey(incoming.partitionKey);
  else partitionId = hub.nextRoundRobinPartition();
  const log = hub.partition(partitionId);
  if (!log) return invalidPartition();

  const { partitionKey } = incoming;
  log.append(
    incoming.events.map((bytes) => (partitionKey === undefined ? { bytes } : { bytes, partitionKey })),
    context.now(),
  );
  return undefined;
}

/** Handles a client sender attaching to a hub or partition: echo, validate, then accept events. */
export function openProducerLink(receiver: Receiver, address: ProducerAddress, context: LinkContext): void {
  receiver.set_source(receiver.source);
  receiver.set_target(receiver.target);
  const refusal = attachRefusal(receiver, address, context);
  if (refusal) {
    receiver.close(refusal);
    return;
  }
  receiver.on("message", (event: EventContext) => {
    const delivery = event.delivery;
    if (!delivery) return;
    let error: AmqpError | undefined;
    try {
      error = accept(event, address, context);
    } catch (err) {
      context.log.error({ err, address: receiver.target.address }, "storing events failed");
      error = { condition: CONDITION.internalError, description: `The events could not be stored: ${(err as Error).message}` };
    }
    if (error) delivery.reject(error);
    else delivery.accept();
  });
}
