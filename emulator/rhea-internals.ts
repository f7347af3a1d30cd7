// Narrow, typed access to rhea 3.0.x state its typings leave out. Kept in one place so a rhea
// upgrade has one file to check. Every field read here exists in rhea/lib/link.js, session.js and
// connection.js.
import type { Connection, Delivery, EventContext, Sender } from "rhea";

interface SenderState {
  credit: number; // credit not yet used by transfers rhea has written
  delivery_count: number; // transfers rhea has written; credit + delivery_count is the peer's horizon
  session: { outgoing: { available(): number } };
}

/**
 * How many more deliveries may be handed to `sender` right now. rhea only decrements `credit` when it
 * writes the transfer (on the next tick), so deliveries queued in this tick are counted by the caller
 * in `queuedTotal` (every delivery ever handed to this link).
 */
export function remainingCredit(sender: Sender, queuedTotal: number): number {
  const state = sender as unknown as SenderState;
  const byCredit = state.credit + state.delivery_count - queuedTotal;
  return Math.min(byCredit, state.session.outgoing.available());
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
