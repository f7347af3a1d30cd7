// What a bad client cannot do to the emulator, probed with raw sockets and a raw rhea client: frames
// larger than the advertised max frame size, connections that never open or go idle, multi-frame
// messages past the size limit, and protocol errors whose bytes (credentials included) must not be logged.
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import pino from "pino";
import { create_container, type AmqpError, type Connection, type EventContext } from "rhea";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseEmulatorConfig } from "../../emulator/config";
import { EventHubsEmulator } from "../../emulator/server";
import { HUB } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
const SECRET = "hunter2-planted-password";

describe("broker hardening against bad clients", () => {
  let emulator: EventHubsEmulator;
  let impatient: EventHubsEmulator; // short handshake and idle timeouts
  const logLines: string[] = [];
  const sockets: Socket[] = [];
  const connections: Connection[] = [];

  beforeAll(async () => {
    const start = (timeouts?: { handshakeMs: number; idleMs: number }) =>
      EventHubsEmulator.start({
        config: parseEmulatorConfig({ hubs: [{ name: HUB, partitionCount: 2 }], checkSignatures: false }, "test"),
        log: pino({ level: "debug" }, { write: (line: string) => logLines.push(line) }),
        ...(timeouts ? { timeouts } : {}),
      });
    [emulator, impatient] = await Promise.all([start(), start({ handshakeMs: 500, idleMs: 1_500 })]);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const connection of connections.splice(0)) if (connection.is_open()) connection.close();
  });
  afterAll(async () => {
    await Promise.all([emulator?.stop(), impatient?.stop()]);
  });

  async function rawSocket(to = emulator): Promise<{ socket: Socket; closed: Promise<void>; received: () => Buffer }> {
    const socket = createConnection({ host: "127.0.0.1", port: to.port });
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    const closed = once(socket, "close").then(() => undefined);
    await once(socket, "connect");
    return { socket, closed, received: () => Buffer.concat(chunks) };
  }

  async function client(to = emulator): Promise<Connection> {
    const connection = create_container().connect({ host: "127.0.0.1", port: to.port, reconnect: false, idle_time_out: 0 });
    connections.push(connection);
    connection.on("error", () => undefined);
    connection.on("disconnected", () => undefined);
    await once(connection, "connection_open");
    return connection;
  }

  it("closes a connection whose frame header claims more than the advertised max frame size, before buffering it", async () => {
    const { socket, closed, received } = await rawSocket();
    const header = Buffer.alloc(8);
    header.writeUInt32BE(0xfffffff0, 0); // a 4 GB frame
    header.writeUInt8(2, 4);
    socket.write(Buffer.concat([AMQP_HEADER, header, Buffer.alloc(60_000, 1)]));
    // The server must hang up on its own; without the check it waits for the rest of 4 GB.
    await expect(Promise.race([closed.then(() => "closed"), new Promise((r) => setTimeout(r, 10_000, "still open"))])).resolves.toBe("closed");
    expect(received().subarray(0, 8)).toEqual(AMQP_HEADER);
    expect(logLines.join("")).toMatch(/more than the max-frame-size of 65536 bytes/);
  });

  it("closes an open connection that sends an oversized frame with amqp:connection:framing-error", async () => {
    const connection = await client();
    const closed = new Promise<AmqpError | undefined>((resolve) =>
      connection.once("connection_close", (event: EventContext) => resolve(event.connection.error as AmqpError | undefined)),
    );
    const socket = (connection as unknown as { socket: Socket }).socket;
    const header = Buffer.alloc(8);
    header.writeUInt32BE(70_000, 0);
    header.writeUInt8(2, 4);
    socket.write(header);
    expect((await closed)?.condition).toBe("amqp:connection:framing-error");
  });

  it("drops a connection that never finishes its handshake", async () => {
    const { closed } = await rawSocket(impatient); // connects, then says nothing
    await expect(Promise.race([closed.then(() => "closed"), new Promise((r) => setTimeout(r, 20_000, "still open"))])).resolves.toBe("closed");
    expect(logLines.join("")).toMatch(/no AMQP open within 500 ms/);
  });

  it("closes an open connection idle past the idle timeout with amqp:connection:forced", async () => {
    const connection = await client(impatient); // idle_time_out 0: this client sends no heartbeats
    const error = await new Promise<AmqpError | undefined>((resolve) =>
      connection.once("connection_close", (event: EventContext) => resolve(event.connection.error as AmqpError | undefined)),
    );
    expect(error).toMatchObject({ condition: "amqp:connection:forced", description: expect.stringMatching(/inactive for more than the allowed 1500 milliseconds/) });
  });

  it("rejects a multi-frame message past 1 MB as it arrives, and the link keeps working", async () => {
    const connection = await client();
    const sender = connection.open_sender({ target: { address: `${HUB}/Partitions/0` } });
    await once(sender, "sendable");
    const outcome = () =>
      new Promise<{ state: string; error?: AmqpError }>((resolve) => {
        sender.once("accepted", () => resolve({ state: "accepted" }));
        sender.once("rejected", (event: EventContext) => resolve({ state: "rejected", error: (event.delivery?.remote_state as { error?: AmqpError } | undefined)?.error }));
      });
    const big = outcome();
    sender.send({ body: Buffer.alloc(8 * 1024 * 1024, 7) }); // 8 MB, about 128 frames of 64 KB
    const rejected = await big;
    expect(rejected.state).toBe("rejected");
    expect(rejected.error).toMatchObject({ condition: "amqp:link:message-size-exceeded", description: expect.stringMatching(/exceeds the limit \(1048576 bytes\)/) });
    const small = outcome();
    sender.send({ body: "after the big one" });
    expect((await small).state).toBe("accepted");
    expect(emulator.namespace.hub(HUB)!.partition("0")!.read(0, 10).map((e) => e.sequenceNumber)).toEqual([0]);
  });

  it("rejects an undecodable message with amqp:decode-error without printing its bytes", async () => {
    const printed: string[] = [];
    const spies = (["error", "warn", "log"] as const).map((method) => vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.join(" "))));
    try {
      const connection = await client();
      for (const address of [`${HUB}/Partitions/1`, "$cbs"]) {
        const sender = connection.open_sender({ target: { address } });
        await once(sender, "sendable");
        const outcome = new Promise<AmqpError | undefined>((resolve) => {
          sender.once("accepted", () => resolve(undefined));
          sender.once("rejected", (event: EventContext) => resolve((event.delivery?.remote_state as { error?: AmqpError } | undefined)?.error));
        });
        const notASection = Buffer.concat([Buffer.from([0xa1, SECRET.length]), Buffer.from(SECRET)]); // a bare string, not a message
        sender.send(notASection, undefined, 0);
        expect((await outcome)?.condition, address).toBe("amqp:decode-error");
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect([...printed, ...logLines].join("\n")).not.toContain(SECRET);
  });

  it("never writes what a client sent to stderr or the log when it breaks the protocol", async () => {
    const printed: string[] = [];
    const spies = (["error", "warn", "log"] as const).map((method) => vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.join(" "))));
    try {
      const { socket, closed } = await rawSocket();
      const payload = Buffer.from(`\x00\x53\x10\xc0\x20\x01\xa1\x1c${SECRET}....`, "latin1");
      const frame = Buffer.alloc(8);
      frame.writeUInt32BE(8 + payload.length, 0);
      frame.writeUInt8(2, 4);
      frame.writeUInt8(1, 5); // a SASL frame type on the AMQP layer: a protocol error
      socket.write(Buffer.concat([AMQP_HEADER, frame, payload]));
      await closed;
      await waitFor("the protocol violation logged", () => logLines.some((line) => line.includes("broke the AMQP protocol")), 5_000);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const everything = [...printed, ...logLines].join("\n");
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(SECRET).toString("hex"));
    expect(logLines.join("")).toMatch(/Invalid frame type/);
  });
});
