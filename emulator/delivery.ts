// Consumer links (spec §5): the client receives from `<hub>/ConsumerGroups/<cg>/Partitions/<id>`.
// The attach is validated (entity, start position, owner level, reader quota); then a cursor sends
// every stored event from its start position as its own pre-settled format-0 transfer, built from the
// stored bytes, exactly as far as the client's link credit allows, and wakes up when events arrive.
import type { AmqpError, Sender } from "rhea";
import { buildDeliveryPayload, encodeRuntimeMetrics } from "./amqp-message";
import type { LinkContext } from "./broker-context";
import type { EntityAddress } from "./entity-address";
import { parseSelectorFilter, PositionError, type EventPosition } from "./event-position";
import type { PartitionLog } from "./partition-log";
import type { Reader } from "./reader-registry";
import { attachPending, outgoingRoom, sendPresettled, unusedCredit } from "./rhea-internals";
import {
  CONDITION,
  consumerGroupEntity,
  entityNotFound,
  invalidPartition,
  positionOutOfRange,
  unauthorized,
} from "./service-errors";

const SELECTOR_FILTER = "apache.org:selector-filter:string";
const RUNTIME_METRIC_CAPABILITY = "com.microsoft:enable-receiver-runtime-metric";
const EPOCH_PROPERTY = "com.microsoft:epoch";
const RECEIVER_NAME_PROPERTY = "com.microsoft:receiver-name";
const EARLIEST: EventPosition = { kind: "offset", offset: "-1", inclusive: false };
/** Events copied out of the log per slice (one pump is bounded by the credit and rhea's 2048-delivery session buffer). */
const READ_CHUNK = 256;

type ConsumerAddress = Extract<EntityAddress, { kind: "consumer" }>;

/** The selector expression of the link's source filter, if any (a described string in rhea). */
function selectorExpression(sender: Sender): string | undefined {
  const entry: unknown = sender.source?.filter?.[SELECTOR_FILTER];
  if (typeof entry === "string") return entry;
  const value = (entry as { value?: unknown } | undefined)?.value;
  return typeof value === "string" ? value : undefined;
}

function ownerLevel(sender: Sender): number | undefined {
  const value: unknown = sender.properties?.[EPOCH_PROPERTY];
  if (value === undefined || value === null) return undefined;
  const epoch = Number(value);
  return Number.isFinite(epoch) ? epoch : undefined;
}

function wantsRuntimeMetrics(sender: Sender): boolean {
  const desired = sender.desired_capabilities;
  return Array.isArray(desired) ? desired.includes(RUNTIME_METRIC_CAPABILITY) : desired === RUNTIME_METRIC_CAPABILITY;
}

/** One consumer link reading one partition from a position onwards. */
class PartitionCursor implements Reader {
  readonly name: string;
  readonly epoch: number | undefined;
  private queued = 0; // deliveries handed to rhea on this link, ever
  private stopped = false;
  private deferred: NodeJS.Immediate | undefined; // a pump waiting for our attach to go out
  private readonly unsubscribe: () => void;

  constructor(
    private readonly sender: Sender,
    private readonly log: PartitionLog,
    private next: number,
    private readonly trackMetrics: boolean,
    private readonly now: () => number,
    private readonly onStop: (cursor: PartitionCursor) => void,
  ) {
    this.name = String(sender.properties?.[RECEIVER_NAME_PROPERTY] ?? "nil");
    this.epoch = ownerLevel(sender);
    this.unsubscribe = log.onAppend(() => this.pump());
    sender.on("sendable", () => this.pump());
    sender.on("sender_draining", () => this.drain());
  }

  unusedCredit(): number {
    return unusedCredit(this.sender, this.queued);
  }

  /** Sends as many available events as the link's credit allows. */
  pump(): void {
    if (attachPending(this.sender)) {
      this.deferred ??= setImmediate(() => {
        this.deferred = undefined;
        this.pump();
      });
      return;
    }
    let credit = Math.min(unusedCredit(this.sender, this.queued), outgoingRoom(this.sender));
    let metrics: Buffer | undefined;
    while (!this.stopped && credit > 0) {
      const events = this.log.read(this.next, Math.min(credit, READ_CHUNK));
      if (events.length === 0) return;
      if (this.trackMetrics && !metrics) metrics = this.runtimeMetrics();
      for (const event of events) {
        const payload = buildDeliveryPayload(
          event.bytes,
          {
            sequenceNumber: event.sequenceNumber,
            offset: String(event.offset),
            enqueuedTimeMs: event.enqueuedTimeMs,
            partitionKey: event.partitionKey,
          },
          metrics,
        );
        sendPresettled(this.sender, payload);
        this.queued++;
        this.next = event.sequenceNumber + 1;
      }
      credit -= events.length;
    }
  }

  /** The peer asked us to use up its credit: send what exists, then give the rest back (never from the SDK). */
  private drain(): void {
    this.pump();
    if (this.stopped || this.log.read(this.next, 1).length > 0) return; // more to send once there is room
    // rhea consumes the remaining credit when it writes the drained flow; count it as used.
    this.queued += Math.max(unusedCredit(this.sender, this.queued), 0);
    this.sender.set_drained(true);
  }

  private runtimeMetrics(): Buffer | undefined {
    const last = this.log.lastEnqueued;
    if (!last) return undefined;
    return encodeRuntimeMetrics({
      lastSequenceNumber: last.sequenceNumber,
      lastOffset: String(last.offset),
      lastEnqueuedTimeMs: last.enqueuedTimeMs,
      retrievalTimeMs: this.now(),
    });
  }

  /** Stops delivering and forgets the cursor; safe to call more than once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.deferred) clearImmediate(this.deferred);
    this.unsubscribe();
    this.onStop(this);
  }

  disconnect(error: AmqpError): void {
    this.stop();
    this.sender.close(error);
  }
}

type Start = { log: PartitionLog; next: number } | { error: AmqpError };

function resolveStart(sender: Sender, address: ConsumerAddress, context: LinkContext): Start {
  const path = `${address.hub}/ConsumerGroups/${address.consumerGroup}/Partitions/${address.partitionId}`;
  if (!context.authorized(path)) return { error: unauthorized(`Unauthorized access. No valid token for '${path}' was put on this connection.`) };
  const namespace = context.namespace;
  const hub = namespace.hub(address.hub);
  if (!hub) return { error: entityNotFound(`${namespace.name}:eventhub:${address.hub}`) };
  if (!hub.hasConsumerGroup(address.consumerGroup)) {
    return { error: entityNotFound(consumerGroupEntity(namespace.name, hub.name, address.consumerGroup)) };
  }
  const log = hub.partition(address.partitionId);
  if (!log) return { error: invalidPartition() };

  const expression = selectorExpression(sender);
  let position = EARLIEST;
  if (expression !== undefined) {
    try {
      position = parseSelectorFilter(expression);
    } catch (err) {
      if (err instanceof PositionError) return { error: { condition: CONDITION.argumentError, description: err.message } };
      throw err;
    }
  }
  const start = log.startFor(position);
  if ("error" in start) return { error: positionOutOfRange(start.error) };
  return { log, next: start.next };
}

/**
 * Handles a client receiver attaching to a consumer-group partition. Returns the link's cleanup
 * (for session ends and disconnects), or undefined when the link was refused.
 */
export function openConsumerLink(sender: Sender, address: ConsumerAddress, context: LinkContext): (() => void) | undefined {
  sender.set_source(sender.source);
  sender.set_target(sender.target);
  const start = resolveStart(sender, address, context);
  if ("error" in start) {
    sender.close(start.error);
    return undefined;
  }
  const { hub, consumerGroup, partitionId } = address;
  const cursor = new PartitionCursor(sender, start.log, start.next, wantsRuntimeMetrics(sender), () => context.now(), (c) =>
    context.readers.remove(hub, consumerGroup, partitionId, c),
  );
  const admission = context.readers.admit(hub, consumerGroup, partitionId, cursor);
  if (!admission.ok) {
    cursor.stop();
    sender.close(admission.error);
    return undefined;
  }
  cursor.pump();
  return () => cursor.stop();
}
