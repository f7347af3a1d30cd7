// Narrow, typed access to rhea 3.0.x state its typings leave out. Kept in one place so a rhea
// upgrade has one file to check. Every field read here exists in rhea/lib/link.js, session.js and
// connection.js.
import { types, type Connection, type Delivery, type EventContext, type Sender } from "rhea";

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

/** How many more deliveries fit in the session's outgoing buffer. */
export function outgoingRoom(sender: Sender): number {
  return (sender as unknown as SenderState).session.outgoing.available();
}

/** Sends a pre-encoded format-0 message pre-settled: Event Hubs reading never depends on dispositions. */
export function sendPresettled(sender: Sender, payload: Buffer): void {
  const delivery = sender.send(payload, undefined, 0) as Delivery & { settled: boolean };
  delivery.settled = true;
}

/** The message format of a received transfer; rhea sets it only for non-zero formats. */
export function messageFormat(context: EventContext): number {
  return (context as EventContext & { format?: number }).format ?? 0;
}

/**
 * Drops a server-side connection's socket without an AMQP close, as a network failure would. rhea's
 * abort_socket also emits `disconnected` locally, so per-connection state is cleaned up as usual.
 */
export function abortSocket(connection: Connection): void {
  const internals = connection as Connection & { socket?: unknown; abort_socket(socket: unknown): void };
  if (internals.socket) internals.abort_socket(internals.socket);
}

interface PendingFrame {
  channel: number;
  type: number;
  performative?: unknown;
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
/** Room for the frame header and a transfer performative; larger frames (attach, open) grow as usual. */
const FRAME_HEADROOM = 256;

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

/**
 * Makes a connection's AMQP transport encode frames with `encodeFrame`: rhea allocates two zero-filled
 * buffers per frame, which costs more than the rest of delivering a 1 KB event. Left off while rhea's
 * own frame logging is enabled (DEBUG=rhea*), which this path does not reproduce.
 */
export function useFastFrameEncoding(connection: Connection): void {
  if (/rhea/.test(process.env.DEBUG ?? "")) return;
  const transport = (connection as unknown as { amqp_transport?: TransportState }).amqp_transport;
  if (!transport) return;
  const original = transport.write.bind(transport);
  transport.write = (socket) => {
    if (!transport.header_sent) return original(socket);
    const frames = transport.pending;
    transport.pending = [];
    for (const frame of frames) socket.write(encodeFrame(frame));
  };
}
