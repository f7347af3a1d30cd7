// Wire conformance: records every byte the emulator sends through a TCP proxy while the real Azure SDK
// (and a raw rhea client, for error paths) uses it, splits the stream into frames, and checks each
// performative against its AMQP 1.0 field list: every field present (as Azure sends them; clients such
// as Microsoft's Python SDK index up to the last), mandatory fields set, and each field in its AMQP type.
import { EventHubConsumerClient, EventHubProducerClient } from "@azure/event-hubs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { create_container, type EventContext } from "rhea";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entryValueStart, readMapEntries, skipValue } from "../../emulator/amqp-codec";
import { SECTION, splitSections } from "../../emulator/amqp-message";
import { FORMAT_CODES, PERFORMATIVES, type FieldSpec } from "../../emulator/amqp-performatives";
import type { EventHubsEmulator } from "../../emulator/server";
import { HUB, readEvents, retryOptions, startEmulator } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

interface Performative {
  code: number;
  listCode: number;
  fields: Array<{ code: number; start: number }>;
  bytes: Buffer;
  payload: Buffer; // a transfer's message bytes
}

/** Splits what the server sent into performatives (protocol headers and heartbeats are skipped). */
function performativesIn(stream: Buffer): Performative[] {
  const found: Performative[] = [];
  let pos = 0;
  while (pos < stream.length) {
    if (stream.toString("latin1", pos, pos + 4) === "AMQP") {
      pos += 8;
      continue;
    }
    const size = stream.readUInt32BE(pos);
    const body = stream.subarray(pos + stream[pos + 4]! * 4, pos + size);
    pos += size;
    if (body.length === 0) continue;
    expect([body[0], body[1]], "a performative is a described list with a small-ulong descriptor").toEqual([0x00, 0x53]);
    const code = body[2]!;
    const listCode = body[3]!;
    let at: number;
    let count: number;
    if (listCode === 0xc0) [at, count] = [6, body[5]!];
    else if (listCode === 0xd0) [at, count] = [12, body.readUInt32BE(8)];
    else [at, count] = [4, 0];
    const fields: Performative["fields"] = [];
    for (let i = 0; i < count; i++) {
      fields.push({ code: body[at]!, start: at });
      at = skipValue(body, at);
    }
    found.push({ code, listCode, fields, bytes: body, payload: body.subarray(at) });
  }
  return found;
}

/** What is wrong with one field's encoding, if anything. */
function fieldProblem(spec: FieldSpec, field: { code: number; start: number }, bytes: Buffer): string | undefined {
  if (field.code === 0x40) return spec.mandatory ? "is mandatory but null" : undefined;
  switch (spec.type) {
    case "any":
      return undefined;
    case "described":
      return field.code === 0x00 ? undefined : `should be a described type, found 0x${field.code.toString(16)}`;
    case "symbols": {
      if (FORMAT_CODES.symbol.includes(field.code)) return undefined;
      if (field.code !== 0xe0 && field.code !== 0xf0) return `should be a symbol or an array of symbols, found 0x${field.code.toString(16)}`;
      const element = bytes[field.start + (field.code === 0xe0 ? 3 : 9)]!;
      return FORMAT_CODES.symbol.includes(element) ? undefined : `is an array of 0x${element.toString(16)}, not of symbols`;
    }
    default:
      return FORMAT_CODES[spec.type].includes(field.code) ? undefined : `should be ${spec.type}, found format code 0x${field.code.toString(16)}`;
  }
}

/** Format code of each entry of a message's map section (annotations or application properties). */
function mapTypes(message: Buffer, section: number): Record<string, number> {
  const range = splitSections(message).find((s) => s.code === section);
  if (!range) return {};
  return Object.fromEntries(readMapEntries(message, range.valueStart).map((e) => [e.key ?? "?", message[entryValueStart(message, e)]!]));
}

const TRANSFER = 0x14;
const LONG = 0x81;
const STR8 = 0xa1;
const SYM8 = 0xa3;
const TIMESTAMP = 0x83;
const INT = [0x71, 0x54];

describe("wire conformance of what the emulator sends", () => {
  let emulator: EventHubsEmulator;
  let proxy: Server;
  const sockets = new Set<Socket>();
  const received: Buffer[] = [];

  beforeAll(async () => {
    emulator = await startEmulator();
    proxy = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: emulator.port });
      const chunks: Buffer[] = [];
      received.push(Buffer.alloc(0)); // one stream per connection, filled on close
      const index = received.length - 1;
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.once("close", () => sockets.delete(socket));
      }
      upstream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received[index] = Buffer.concat(chunks);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy?.close(resolve));
    await emulator?.stop();
  });

  it("sends every performative with its complete AMQP 1.0 field list in the right types", async () => {
    const port = (proxy.address() as { port: number }).port;
    const connectionString = emulator.connectionString().replace(`:${emulator.port};`, `:${port};`);

    // The SDK: SASL, CBS, $management, a send (disposition), a read (transfers), clean closes.
    const producer = new EventHubProducerClient(connectionString, HUB, { retryOptions });
    await producer.getEventHubProperties();
    await expect(producer.getPartitionProperties("99")).rejects.toThrow(/partition is invalid/); // an error reply
    await producer.sendBatch([{ body: "conformance" }], { partitionId: "1" });
    await producer.close();
    const consumer = new EventHubConsumerClient("$Default", connectionString, HUB, { retryOptions });
    const read = await readEvents(consumer, "1", { startPosition: { offset: "-1" }, count: 1 });
    expect(read.events).toHaveLength(1);
    await consumer.close();

    // A raw client for an error path: a refused link (a detach carrying an error).
    const connection = create_container().connect({ host: "127.0.0.1", port, reconnect: false });
    await new Promise((resolve) => connection.once("connection_open", resolve));
    const receiver = connection.open_receiver({ source: { address: "no/such/entity" } });
    await new Promise((resolve) => receiver.once("receiver_close", resolve));
    const closed = new Promise((resolve) => connection.once("connection_close", (event: EventContext) => resolve(event)));
    connection.close();
    await closed;
    await waitFor("every socket closed", () => sockets.size === 0, 10_000);

    const performatives = received.flatMap(performativesIn);
    const problems: string[] = [];
    for (const performative of performatives) {
      const spec = PERFORMATIVES.get(performative.code);
      if (!spec) {
        problems.push(`unknown performative 0x${performative.code.toString(16)}`);
        continue;
      }
      if (performative.listCode !== 0xc0 && performative.listCode !== 0xd0) problems.push(`${spec.name} is list0 / 0x${performative.listCode.toString(16)}, not list8 or list32`);
      if (performative.fields.length !== spec.fields.length) problems.push(`${spec.name} has ${performative.fields.length} fields, the spec lists ${spec.fields.length}`);
      spec.fields.forEach((field, i) => {
        const encoded = performative.fields[i];
        const problem = encoded && fieldProblem(field, encoded, performative.bytes);
        if (problem) problems.push(`${spec.name}.${field.name} ${problem}`);
      });
    }
    expect([...new Set(problems)]).toEqual([]);
    const seen = new Set(performatives.map((p) => PERFORMATIVES.get(p.code)?.name));
    expect([...seen].sort()).toEqual(["attach", "begin", "close", "detach", "disposition", "end", "flow", "open", "sasl-mechanisms", "sasl-outcome", "transfer"]);

    // Message level, in Azure's AMQP types: CBS / $management status, event annotations.
    const messages = performatives.filter((p) => p.code === TRANSFER).map((p) => p.payload);
    const replies = messages.map((m) => mapTypes(m, SECTION.applicationProperties)).filter((props) => "status-code" in props);
    expect(replies.length).toBeGreaterThanOrEqual(3); // put-tokens and the properties READ
    for (const props of replies) {
      expect(INT).toContain(props["status-code"]);
      expect(props["status-description"]).toBe(STR8);
    }
    expect(replies.filter((props) => "error-condition" in props).map((props) => props["error-condition"])).toEqual([SYM8]);
    const events = messages.map((m) => mapTypes(m, SECTION.messageAnnotations)).filter((a) => "x-opt-sequence-number" in a);
    expect(events).toEqual([{ "x-opt-sequence-number": LONG, "x-opt-offset": STR8, "x-opt-enqueued-time": TIMESTAMP }]);
  });
});
