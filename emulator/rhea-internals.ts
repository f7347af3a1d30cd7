// Narrow, typed access to rhea 3.0.x state its typings leave out. Kept in one place so a rhea
// upgrade has one file to check. Every field read here exists in rhea/lib/link.js, session.js and
// connection.js.
import type { Socket } from "node:net";
import {
  types,
  type Connection,
  type ConnectionOptions,
  type Container,
  type Delivery,
  type EventContext,
  type Sender,
  type ServerConnectionOptions,
  type Session,
} from "rhea";
import { PERFORMATIVES, type FieldSpec } from "./amqp-performatives";

interface SenderState {
  credit: number; // credit not yet used by transfers rhea has written
  delivery_count: number; // transfers rhea has written (+ credit drained); credit + delivery_count is the peer's horizon
  session: { outgoing: { available(): number } };
}

/**
 * Credit the peer granted that no delivery has been handed to `sender` for yet. rhea only decrements
 * `credit` when it writes a transfer (on the next tick), so the caller counts every delivery it ever
 * handed to this link in `queuedTotal`.
 */
export function unusedCredit(sender: Sender, queuedTotal: number): number {
  const state = sender as unknown as SenderState;
  return state.credit + state.delivery_count - queuedTotal;
}

/**
 * True until rhea has written the link's attach. rhea writes a session's transfers before its links'
 * attaches, so a client that grants credit together with its attach (Proton does) would otherwise
 * get transfers on a handle it does not know yet.
 */
export function attachPending(link: Sender): boolean {
  return (link as unknown as { state: { open_requests: number } }).state.open_requests > 0;
}

/** How many more deliveries fit in the session's outgoing buffer. */
export function outgoingRoom(sender: Sender): number {
  return (sender as unknown as SenderState).session.outgoing.available();
}

/** Sends a pre-encoded format-0 message pre-settled: Event Hubs reading never depends on dispositions. */
export function sendPresettled(sender: Sender, payload: Buffer): void {
  const delivery = sender.send(payload, undefined, 0) as Delivery & { settled: boolean };
  delivery.settled = true;
}

/**
 * Stands in for message format 0 on server sessions (see `guardIncomingTransfers`): rhea decodes only
 * format 0, and its decoder prints what it cannot read (client bytes) on stderr. No peer can send -1.
 */
const UNDECODED_FORMAT_ZERO = -1;

/** The message format of a received transfer (rhea sets the context's format only for non-zero formats). */
export function messageFormat(context: EventContext): number {
  const format = (context as EventContext & { format?: number }).format ?? 0;
  return format === UNDECODED_FORMAT_ZERO ? 0 : format;
}

/** The raw bytes of a message received on a server session (handed over undecoded, whatever its format). */
export function messageBytes(context: EventContext): Buffer | undefined {
  const message: unknown = context.message;
  return Buffer.isBuffer(message) ? message : undefined;
}

/**
 * Drops a server-side connection's socket without an AMQP close, as a network failure would. rhea's
 * abort_socket also emits `disconnected` locally, so per-connection state is cleaned up as usual.
 */
export function abortSocket(connection: Connection): void {
  const internals = connection as Connection & { socket?: unknown; abort_socket(socket: unknown): void };
  if (internals.socket) internals.abort_socket(internals.socket);
}

interface Performative {
  value: unknown[];
  constructor: { descriptor?: { numeric: number } };
}
interface PendingFrame {
  channel: number;
  type: number;
  performative?: Performative;
  payload?: Buffer;
}
interface TransportState {
  header_sent: unknown;
  pending: PendingFrame[];
  write(socket: { write(buffer: Buffer): boolean }): void;
}
interface FrameWriter {
  skip(bytes: number): void;
  write_uint(value: number, width: number): void;
  write(value: unknown): void;
  write_bytes(bytes: Buffer): void;
  toBuffer(): Buffer;
}
const FrameWriterClass = (types as unknown as { Writer: new (buffer: Buffer) => FrameWriter }).Writer;
const typed = types as unknown as Record<`wrap_${"uint" | "ushort" | "ubyte" | "boolean"}`, (value: unknown) => unknown> & { Null(): unknown };

/** rhea leaves a field out (a hole or undefined) or writes an explicit null for it. */
function isUnset(value: unknown): boolean {
  return value === undefined || value === null || (value as { type?: { typecode?: number } }).type?.typecode === 0x40;
}

/** A field's value when rhea left it unset: the spec's default where it has one, else null. */
function unsetField(field: FieldSpec): unknown {
  const value = field.default;
  if (value === undefined) return typed.Null();
  if (field.type === "uint" || field.type === "ushort" || field.type === "ubyte" || field.type === "boolean") return typed[`wrap_${field.type}`](value);
  return typed.Null();
}

/** Per performative code, the encodable value of each field when unset; built once, only ever read. */
const UNSET_FIELDS = new Map([...PERFORMATIVES].map(([code, spec]) => [code, spec.fields.map(unsetField)]));

/** Room for the frame header and a transfer performative; larger frames (attach, open) grow as usual. */
const FRAME_HEADROOM = 256;

/**
 * The performative with every field of its AMQP list: rhea stops at the last field it set, Azure
 * sends them all. A copy, so rhea's own state keeps reading unset fields as undefined.
 */
function withAllFields(performative: Performative): Performative {
  const unset = UNSET_FIELDS.get(Number(performative.constructor.descriptor?.numeric));
  if (!unset) return performative;
  const padded = Object.create(Object.getPrototypeOf(performative) as object) as Performative;
  padded.value = unset.map((whenUnset, i) => (isUnset(performative.value[i]) ? whenUnset : performative.value[i]));
  return padded;
}

/** rhea's frames.write_frame, but into one right-sized, non-zeroed buffer instead of zeroed 1 KB + 2 KB. */
function encodeFrame(frame: PendingFrame): Buffer {
  const writer = new FrameWriterClass(Buffer.allocUnsafe(FRAME_HEADROOM + (frame.payload?.length ?? 0)));
  writer.skip(4); // the size, filled in below
  writer.write_uint(2, 1); // data offset in 4-byte words
  writer.write_uint(frame.type, 1);
  writer.write_uint(frame.channel, 2);
  if (frame.performative) {
    writer.write(frame.performative);
    if (frame.payload) writer.write_bytes(frame.payload);
  }
  const buffer = writer.toBuffer();
  buffer.writeUInt32BE(buffer.length, 0);
  return buffer;
}

function completeFields(transport: TransportState): void {
  for (const frame of transport.pending) if (frame.performative) frame.performative = withAllFields(frame.performative);
}

/**
 * Makes every frame a server connection writes, SASL included, carry complete performative field
 * lists, and encodes AMQP frames with `encodeFrame`: rhea allocates two zero-filled buffers per frame,
 * which costs more than the rest of delivering a 1 KB event. rhea's own writer (with its frame logging)
 * is kept while DEBUG=rhea* is set. Call before the connection reads anything.
 */
function writeCompleteFrames(transport: TransportState, fast: boolean): void {
  const original = transport.write.bind(transport);
  transport.write = (socket) => {
    completeFields(transport);
    if (!fast || !transport.header_sent) return original(socket);
    const frames = transport.pending;
    transport.pending = [];
    for (const frame of frames) socket.write(encodeFrame(frame));
  };
}

interface ServerConnectionState {
  amqp_transport: TransportState;
  sasl_transport?: { transports?: Record<number, { transport?: TransportState }> };
  accept(socket: Socket): void;
}

/**
 * A server-side connection for a socket we accepted ourselves, as rhea's own listener makes one
 * (its typings only describe client options for create_connection).
 */
export function serverConnection(container: Container, options: ServerConnectionOptions): Connection {
  return container.create_connection(options as unknown as ConnectionOptions);
}

/** Hands an accepted socket to a server connection; from then on it frames complete performatives. */
export function acceptSocket(connection: Connection, socket: Socket): void {
  const state = connection as unknown as ServerConnectionState;
  state.accept(socket);
  const fast = !/rhea/.test(process.env.DEBUG ?? "");
  writeCompleteFrames(state.amqp_transport, fast);
  const sasl = state.sasl_transport?.transports?.[3]?.transport;
  if (sasl) writeCompleteFrames(sasl, false);
}

interface IncomingDelivery {
  frames: Buffer[];
  receivedBytes?: number;
  oversized?: boolean;
}
interface TransferFrame {
  payload?: Buffer;
  performative: { message_format?: number };
}
interface IncomingState {
  on_transfer(frame: TransferFrame, receiver: { _incomplete?: IncomingDelivery; connection: { _register(): void } }): void;
}

/** The frame with format 0 replaced by UNDECODED_FORMAT_ZERO, so rhea hands the message over undecoded. */
function undecoded(frame: TransferFrame): TransferFrame {
  if (frame.performative.message_format) return frame;
  const performative = Object.create(frame.performative) as TransferFrame["performative"];
  Object.defineProperty(performative, "message_format", { value: UNDECODED_FORMAT_ZERO });
  return { ...frame, performative };
}

/**
 * Takes over what rhea does with incoming transfers on a server session:
 *  - every message is handed to the link handlers undecoded (`messageBytes`), since rhea's decoder
 *    prints the bytes it cannot read on stderr; the handlers validate and decode themselves;
 *  - the bytes of multi-frame deliveries are counted as their frames arrive. Once a delivery passes
 *    `maxBytes` its frames are dropped instead of buffered, and it is marked so the link handler can
 *    reject it (see `oversizedDelivery`): a huge send costs at most `maxBytes` of memory.
 */
export function guardIncomingTransfers(session: Session, maxBytes: number): void {
  const incoming = (session as unknown as { incoming?: IncomingState }).incoming;
  if (!incoming) return;
  const original = incoming.on_transfer.bind(incoming);
  incoming.on_transfer = (frame, receiver) => {
    const size = frame.payload?.length ?? 0;
    const pending = receiver._incomplete;
    if (pending) {
      pending.receivedBytes = (pending.receivedBytes ?? 0) + size;
      if (pending.receivedBytes > maxBytes) pending.oversized = true;
      if (pending.oversized) pending.frames.length = 0;
    }
    // An empty payload decodes cleanly; the link handler rejects an oversized delivery by its mark.
    original(pending?.oversized ? { ...frame, payload: Buffer.alloc(0) } : pending ? frame : undecoded(frame), receiver);
    const started = receiver._incomplete;
    if (!started) return;
    if (started.receivedBytes === undefined) started.receivedBytes = size;
    // rhea reopens the session's incoming window only when it processes output, which nothing
    // triggers mid-delivery: a message of more frames than the window would stall its sender for good.
    receiver.connection._register();
  };
}

/** The size of a delivery whose frames were dropped for being over the limit, else undefined. */
export function oversizedDelivery(delivery: Delivery | undefined): number | undefined {
  const state = delivery as unknown as IncomingDelivery | undefined;
  return state?.oversized ? state.receivedBytes : undefined;
}
