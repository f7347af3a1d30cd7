// One Kafka client connection: frames in (size-checked before buffering), requests answered one at a
// time and in order (as a Kafka broker mutes a connection while it works on a request), responses out
// with the header version the API version calls for. Before SASL succeeds only ApiVersions and SASL are
// served; a request that does not decode, an API we do not serve or a refused login closes this
// connection only. Reading pauses while requests queue up or the client does not read its responses.
import type { Socket } from "node:net";
import { API, apiRange, PRE_AUTH_APIS } from "./api-keys";
import { apiVersions, login } from "./apis/handshake";
import { KafkaDecodeError, Reader, type Writer } from "./codec";
import type { ConnectionInfo, KafkaRequest, KafkaServerContext } from "./context";
import { FrameTooLargeError, RequestFrames } from "./framing";
import { HANDLERS } from "./handlers";

export interface ConnectionLimits {
  /** Largest request once authenticated. */
  maxRequestBytes: number;
  /** Largest request before (ApiVersions and SASL are small). */
  maxPreAuthRequestBytes: number;
  /** Time allowed from connecting to a successful SASL login. */
  authenticationMs: number;
  /** A connection silent for this long is closed (Kafka's connections.max.idle.ms). */
  idleMs: number;
}

/** Requests read ahead of the one being answered before reading pauses (also once they hold a max-size request's bytes). */
const MAX_QUEUED_REQUESTS = 16;

/** "::ffff:127.0.0.1" -> "127.0.0.1": clients are told the address in the form they can dial. */
function plainAddress(address: string | undefined): string {
  return (address ?? "127.0.0.1").replace(/^::ffff:/, "");
}

export class KafkaConnection {
  readonly info: ConnectionInfo;
  private readonly frames: RequestFrames;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private working = false;
  private closing = false;
  private waitingForDrain = false;
  private readonly authTimer: NodeJS.Timeout;
  private resolveClosed!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly server: KafkaServerContext,
    private readonly limits: ConnectionLimits,
    advertisedPort: number,
  ) {
    const closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    this.info = {
      principal: undefined,
      saslMechanism: undefined,
      rawSaslTokenNext: false,
      closeAfterResponse: undefined,
      advertisedHost: plainAddress(socket.localAddress),
      advertisedPort,
      clientHost: `/${plainAddress(socket.remoteAddress)}`,
      closed,
    };
    this.frames = new RequestFrames(() => (this.info.principal ? limits.maxRequestBytes : limits.maxPreAuthRequestBytes));
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleMs, () => this.close(`idle for ${limits.idleMs} ms`));
    this.authTimer = setTimeout(() => {
      if (!this.info.principal) this.close(`no successful SASL login within ${limits.authenticationMs} ms of connecting`);
    }, limits.authenticationMs);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => undefined); // a reset by the client ends in "close"
    socket.once("close", () => {
      clearTimeout(this.authTimer);
      this.closing = true;
      this.resolveClosed();
    });
  }

  /** Closes this connection; the reason is logged (never request bytes: they may hold credentials). */
  close(reason?: string): void {
    if (this.closing) return;
    this.closing = true;
    if (reason) this.server.log.warn({ peer: this.info.clientHost, reason }, "closing a Kafka client connection");
    this.socket.pause();
    this.socket.end();
    this.socket.destroySoon();
    const timer = setTimeout(() => this.socket.destroy(), 200);
    this.socket.once("close", () => clearTimeout(timer));
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    try {
      for (const frame of this.frames.push(chunk)) {
        this.queue.push(frame);
        this.queuedBytes += frame.length;
      }
    } catch (error) {
      if (error instanceof FrameTooLargeError) return this.close(error.message);
      throw error;
    }
    this.updateFlow();
    void this.work();
  }

  private updateFlow(): void {
    if (this.closing) return;
    const full = this.queue.length >= MAX_QUEUED_REQUESTS || this.queuedBytes >= this.limits.maxRequestBytes;
    if (full || this.waitingForDrain) this.socket.pause();
    else this.socket.resume();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.closing && this.queue.length > 0) {
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        this.updateFlow();
        await this.answer(frame);
      }
    } finally {
      this.working = false;
    }
  }

  private async answer(frame: Buffer): Promise<void> {
    if (this.info.rawSaslTokenNext) return this.rawSaslToken(frame);
    const header = new Reader(frame);
    let request: KafkaRequest & { unservedApiVersions?: boolean };
    try {
      request = this.parseHeader(header);
    } catch (error) {
      return this.close(error instanceof KafkaDecodeError ? `bad request header: ${error.message}` : String(error));
    }
    if (request.unservedApiVersions) return this.respond(request, apiVersions(request, true));
    const handler = HANDLERS.get(request.apiKey);
    if (!handler) return this.close(`API key ${request.apiKey} is not served`);
    let body: Writer | undefined;
    try {
      body = await handler(request);
    } catch (error) {
      if (error instanceof KafkaDecodeError) return this.close(`a ${apiRange(request.apiKey)?.name ?? request.apiKey} v${request.apiVersion} request does not decode: ${error.message}`);
      this.server.log.error({ err: error, api: apiRange(request.apiKey)?.name }, "a Kafka request failed");
      return this.close("internal error");
    }
    if (body) this.respond(request, body);
    if (this.info.closeAfterResponse) this.close(this.info.closeAfterResponse);
  }

  /**
   * Reads the request header; throws for anything we will not answer. An ApiVersions version we do not
   * serve is answered (in v0 form, with our table) rather than refused, so the client can retry (KIP-511).
   */
  private parseHeader(header: Reader): KafkaRequest & { unservedApiVersions?: boolean } {
    const apiKey = header.int16();
    const apiVersion = header.int16();
    const correlationId = header.int32();
    const clientId = header.nullableString();
    const range = apiRange(apiKey);
    const base = { apiKey, apiVersion, correlationId, clientId, connection: this.info, server: this.server };
    if (!range) throw new KafkaDecodeError(`API key ${apiKey} is not served by this emulator`);
    if (!this.info.principal && !PRE_AUTH_APIS.has(apiKey)) throw new KafkaDecodeError(`${range.name} before SASL authentication (only ApiVersions and SASL are allowed)`);
    if (apiVersion < range.min || apiVersion > range.max) {
      if (apiKey === API.apiVersions) return { ...base, body: header, unservedApiVersions: true };
      throw new KafkaDecodeError(`${range.name} v${apiVersion} is not served (v${range.min}-v${range.max} are)`);
    }
    const flexible = apiVersion >= range.flexibleFrom;
    const body = header.withFlexible(flexible);
    body.taggedFields(); // request header v2 ends with tagged fields
    return { ...base, body };
  }

  private respond(request: Pick<KafkaRequest, "apiKey" | "correlationId" | "body">, body: Writer): void {
    // Flexible responses carry header v1 (tagged fields), except ApiVersions, which clients must read first.
    const taggedHeader = request.body.flexible && request.apiKey !== API.apiVersions;
    const head = Buffer.alloc(taggedHeader ? 9 : 8);
    head.writeInt32BE(head.length - 4 + body.length, 0);
    head.writeInt32BE(request.correlationId, 4);
    this.write([head, ...body.pieces()]);
  }

  private write(pieces: Buffer[]): void {
    if (this.socket.destroyed) return;
    this.socket.cork();
    let flowing = true;
    for (const piece of pieces) flowing = this.socket.write(piece);
    this.socket.uncork();
    if (!flowing && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.updateFlow();
      this.socket.once("drain", () => {
        this.waitingForDrain = false;
        this.updateFlow();
      });
    }
  }

  /** SaslHandshake v0: the token comes as a bare frame; success is an empty bare frame, failure a close. */
  private rawSaslToken(token: Buffer): void {
    this.info.rawSaslTokenNext = false;
    const refused = login({ connection: this.info, server: this.server }, token);
    if (refused !== undefined) return this.close(`SASL authentication failed: ${refused}`);
    this.write([Buffer.alloc(4)]);
  }
}
