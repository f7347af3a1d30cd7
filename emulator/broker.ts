// The AMQP listener: a rhea container on plain TCP that accepts SASL ANONYMOUS and clients that skip
// SASL (spec §1), routes every link the client opens to its node ($cbs, $management, producer,
// consumer), and frees all per-link state when a link, session or connection ends. Before rhea sees a
// byte, each connection is held to the frame size, handshake deadline and idle timeout we advertise.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import {
  create_container,
  type AmqpError,
  type Connection,
  type Container,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
  type Session,
} from "rhea";
import type { BrokerContext, LinkContext } from "./broker-context";
import { ConnectionGrants, handleCbsRequest } from "./cbs";
import { openConsumerLink } from "./delivery";
import { parseEntityAddress } from "./entity-address";
import { openProducerLink } from "./ingest";
import { handleManagementRequest } from "./management";
import { InboundFrames } from "./inbound-frames";
import { decodeMessage } from "./amqp-message";
import { abortSocket, acceptSocket, guardIncomingTransfers, messageBytes, serverConnection } from "./rhea-internals";
import { CONDITION, unknownAddress } from "./service-errors";

const CBS_NODE = "$cbs";
const MANAGEMENT_NODE = "$management";

/** Connection settings advertised in our `open` (spec §1.4); no Nagle delay on request/reply traffic. */
const OPEN_SETTINGS = { max_frame_size: 65536, channel_max: 4999, idle_time_out: 120_000, tcp_no_delay: true };

/** How long a client may take from connecting to its AMQP `open`, and stay silent once open. */
export interface ConnectionTimeouts {
  handshakeMs: number;
  /** Defaults to the idle-time-out we advertise: a client's heartbeats come at least twice as often. */
  idleMs: number;
}
export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = { handshakeMs: 30_000, idleMs: OPEN_SETTINGS.idle_time_out };
/** Credit each client sender gets straight away, refilled as messages arrive (rhea's credit window). */
const PRODUCER_CREDIT = 1000;
/** How long stop() lets clients read our close frame before it drops their sockets. */
const CLOSE_GRACE_MS = 200;

type LinkEnd = () => void;

/**
 * rhea writes every frame with its own socket.write, i.e. one syscall per delivered event. Corking the
 * socket for the rest of the tick turns all frames written in one processing pass into one writev.
 */
function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Socket["write"];
}

interface ReplyLink {
  node: string; // $cbs or $management
  sender: Sender;
  names: string[]; // link name and target address: what a string reply-to may name
}

/** Per-connection state: granted audiences, reply links, and the cleanup of every open link. */
class ClientConnection {
  readonly grants = new ConnectionGrants();
  readonly replyLinks = new Set<ReplyLink>();
  readonly linkEnds = new Map<Sender | Receiver, LinkEnd>();

  /**
   * Where the reply to a request on `node` goes: the link a string reply-to names; otherwise (no
   * reply-to, or one in another form) the node's receiving link on the request's session, as Azure
   * answers; otherwise the connection's only receiving link for the node.
   */
  replyLinkFor(node: string, replyTo: unknown, requestLink: Receiver): Sender | undefined {
    const open = [...this.replyLinks].filter((link) => link.node === node && link.sender.is_open());
    if (typeof replyTo === "string" && replyTo !== "") {
      const named = open.find((link) => link.names.includes(replyTo));
      if (named) return named.sender;
    }
    const sameSession = open.filter((link) => link.sender.session === requestLink.session);
    if (sameSession.length > 0) return sameSession.at(-1)?.sender;
    return open.length === 1 ? open[0]?.sender : undefined;
  }

  track(link: Sender | Receiver, end: LinkEnd): void {
    this.linkEnds.set(link, end);
  }

  endLink(link: Sender | Receiver): void {
    const end = this.linkEnds.get(link);
    this.linkEnds.delete(link);
    end?.();
  }

  endSession(session: Session): void {
    for (const link of [...this.linkEnds.keys()]) if (link.session === session) this.endLink(link);
  }

  endAll(): void {
    for (const link of [...this.linkEnds.keys()]) this.endLink(link);
  }
}

export interface BrokerOptions {
  host: string;
  port: number;
  context: BrokerContext;
  timeouts?: Partial<ConnectionTimeouts>;
}

export class Broker {
  private readonly connections = new Map<Connection, ClientConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly container: Container,
    private readonly server: Server,
    private readonly context: BrokerContext,
    private readonly timeouts: ConnectionTimeouts,
  ) {}

  static async listen(options: BrokerOptions): Promise<Broker> {
    const container = create_container({ id: `eventhubs-emulator-${options.context.namespace.name}` });
    container.sasl_server_mechanisms.enable_anonymous();
    const server = createServer();
    const broker = new Broker(container, server, options.context, { ...DEFAULT_CONNECTION_TIMEOUTS, ...options.timeouts });
    broker.wire();
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
      server.listen(options.port, options.host);
    });
    return broker;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.server.address() as AddressInfo).address;
  }

  /**
   * Live client connections and admitted consumer links, e.g. to check that state is freed, and the link credit
   * their clients have granted that no event has used yet (how many events could be pushed to them at once).
   */
  stats(): { connections: number; consumerLinks: number; unusedCredit: number } {
    const readers = this.context.readers.all();
    return { connections: this.connections.size, consumerLinks: readers.length, unusedCredit: readers.reduce((sum, reader) => sum + reader.unusedCredit(), 0) };
  }

  /** Detaches every consumer link with `error`; returns how many were detached. */
  detachReceivers(error: AmqpError): number {
    const readers = this.context.readers.all();
    for (const reader of readers) reader.disconnect(error);
    return readers.length;
  }

  /** Drops every client socket without an AMQP close; returns how many. */
  dropConnections(): number {
    const connections = [...this.connections.keys()];
    for (const connection of connections) abortSocket(connection);
    return connections.length;
  }

  /** Closes every connection, then the listener. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections.keys()) {
      connection.close({ condition: CONDITION.connectionForced, description: "The emulator is shutting down." });
    }
    if (this.sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
    for (const socket of this.sockets) socket.destroy();
    for (const client of this.connections.values()) client.endAll();
    this.connections.clear();
    await closed;
  }

  /** Takes a new socket: guards its input, then hands it to a rhea connection of its own. */
  private accept(socket: Socket): void {
    coalesceWrites(socket);
    this.sockets.add(socket);
    const connection = serverConnection(this.container, {
      ...OPEN_SETTINGS,
      receiver_options: { autoaccept: false, credit_window: PRODUCER_CREDIT, max_message_size: this.context.config.maxMessageBytes },
    });
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let refused = false;
    const refuse = (reason: string, error?: AmqpError) => {
      if (refused) return;
      refused = true;
      this.context.log.warn({ peer, reason }, "closing a client connection");
      socket.pause(); // read nothing more from a client we are closing
      if (error && connection.is_open()) connection.close(error);
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      socket.once("close", () => clearTimeout(timer));
    };
    // Checked when due rather than cleared on open: a listener on the connection would keep rhea from
    // passing its connection_open on to the container's handler.
    const handshake = setTimeout(() => {
      if (!connection.is_remote_open()) refuse(`no AMQP open within ${this.timeouts.handshakeMs} ms of connecting`);
    }, this.timeouts.handshakeMs);
    const idle = setTimeout(() => {
      const description = `The connection was inactive for more than the allowed ${this.timeouts.idleMs} milliseconds and is closed by the emulator.`;
      refuse(`idle for ${this.timeouts.idleMs} ms`, { condition: CONDITION.connectionForced, description });
    }, this.timeouts.idleMs);
    const frames = new InboundFrames(OPEN_SETTINGS.max_frame_size);
    // Registered before acceptSocket adds rhea's reader, so every chunk is checked before rhea buffers it.
    socket.on("data", (chunk: Buffer) => {
      idle.refresh();
      const problem = frames.check(chunk);
      if (problem) refuse(problem, { condition: CONDITION.framingError, description: `Framing error: ${problem}.` });
    });
    socket.once("close", () => {
      clearTimeout(handshake);
      clearTimeout(idle);
      this.sockets.delete(socket);
    });
    acceptSocket(connection, socket);
  }

  private wire(): void {
    const { container, server } = this;
    server.on("connection", (socket: Socket) => this.accept(socket));
    container.on("connection_open", (event: EventContext) => {
      this.client(event.connection);
      this.context.log.debug({ containerId: event.connection.container_id, amqpHostname: event.connection.hostname }, "client connected");
    });
    container.on("session_open", (event: EventContext) => {
      if (event.session) guardIncomingTransfers(event.session, this.context.config.maxMessageBytes);
    });
    container.on("receiver_open", (event: EventContext) => event.receiver && this.onClientSender(event.receiver, this.client(event.connection)));
    container.on("sender_open", (event: EventContext) => event.sender && this.onClientReceiver(event.sender, this.client(event.connection)));
    const endLink = (event: EventContext) => {
      const link = event.sender ?? event.receiver;
      if (link) this.connections.get(event.connection)?.endLink(link);
    };
    container.on("sender_close", endLink);
    container.on("receiver_close", endLink);
    container.on("session_close", (event: EventContext) => event.session && this.connections.get(event.connection)?.endSession(event.session));
    const endConnection = (event: EventContext) => {
      const client = this.connections.get(event.connection);
      if (!client) return;
      this.connections.delete(event.connection);
      client.endAll();
      this.context.log.debug({ containerId: event.connection.container_id }, "client disconnected");
    };
    container.on("connection_close", endConnection);
    container.on("disconnected", endConnection);
    // Errors a peer reports on close end up here when no handler above claimed them; they are the
    // client's business, not a broker failure.
    container.on("error", (err: Error) => this.context.log.debug({ err }, "peer reported an error"));
    // Claiming protocol errors keeps rhea from printing the received bytes (credentials included) as
    // hex on stderr; the log names the error only.
    container.on("protocol_error", (err: Error) => this.context.log.warn({ error: err.message }, "client broke the AMQP protocol; connection closed"));
  }

  private client(connection: Connection): ClientConnection {
    let client = this.connections.get(connection);
    if (!client) {
      client = new ClientConnection();
      this.connections.set(connection, client);
    }
    return client;
  }

  private linkContext(client: ClientConnection): LinkContext {
    const { context } = this;
    return {
      ...context,
      authorized: (entityPath) => !context.config.checkSignatures || client.grants.covers(entityPath, context.now()),
    };
  }

  /** The client opened a sender: we receive on `$cbs`, `$management`, a hub or a partition. */
  private onClientSender(receiver: Receiver, client: ClientConnection): void {
    const address = receiver.target?.address ?? "";
    if (address === CBS_NODE || address === MANAGEMENT_NODE) {
      receiver.set_source(receiver.source);
      receiver.set_target(receiver.target);
      receiver.on("message", (event: EventContext) => this.onRequest(address, event, receiver, client));
      return;
    }
    const entity = parseEntityAddress(address);
    if (entity && entity.kind !== "consumer") {
      openProducerLink(receiver, entity, this.linkContext(client));
      return;
    }
    receiver.set_source(receiver.source);
    receiver.set_target(receiver.target);
    receiver.close(unknownAddress(address));
  }

  /** The client opened a receiver: we send CBS/management replies or events. */
  private onClientReceiver(sender: Sender, client: ClientConnection): void {
    const address = sender.source?.address ?? "";
    if (address === CBS_NODE || address === MANAGEMENT_NODE) {
      sender.set_source(sender.source);
      sender.set_target(sender.target);
      const names = [sender.name, sender.target?.address].filter((n): n is string => typeof n === "string" && n !== "");
      const link: ReplyLink = { node: address, sender, names };
      client.replyLinks.add(link);
      client.track(sender, () => client.replyLinks.delete(link));
      return;
    }
    const entity = parseEntityAddress(address);
    if (entity?.kind === "consumer") {
      const end = openConsumerLink(sender, entity, this.linkContext(client));
      if (end) client.track(sender, end);
      return;
    }
    sender.set_source(sender.source);
    sender.set_target(sender.target);
    sender.close(unknownAddress(address));
  }

  private onRequest(node: string, event: EventContext, requestLink: Receiver, client: ClientConnection): void {
    const { context } = this;
    let request: Message;
    try {
      request = decodeMessage(messageBytes(event) ?? Buffer.alloc(0));
    } catch (err) {
      const description = `The request could not be decoded: ${(err as Error).message}`;
      event.delivery?.reject({ condition: CONDITION.decodeError, description });
      return;
    }
    event.delivery?.accept();
    let reply: Message;
    let delayMs = 0;
    if (node === CBS_NODE) {
      reply = handleCbsRequest(request, client.grants, context.config, context.now());
    } else {
      reply = handleManagementRequest(request, {
        namespace: context.namespace,
        grants: client.grants,
        checkSignatures: context.config.checkSignatures,
        nowMs: context.now(),
      });
      delayMs = context.faults.managementDelayMs;
    }
    const send = () => {
      const link = client.replyLinkFor(node, request.reply_to, requestLink);
      if (link) link.send(reply);
      else context.log.warn({ node, replyTo: String(request.reply_to ?? "") }, "no open reply link for request");
    };
    if (delayMs <= 0) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, delayMs);
    this.timers.add(timer);
  }
}
