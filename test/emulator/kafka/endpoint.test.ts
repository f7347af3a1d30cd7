// The Kafka endpoint's edges, probed with raw sockets (hand-built frames, for what no well-behaved client
// sends) and kafkajs: sizes refused before buffering, nothing but ApiVersions and SASL before login, a bad
// request closing only its own connection, the SASL v0 flow, fetches bounded by the client's max bytes,
// and committed offsets that survive a restart with a data directory.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { Reader, Writer } from "../../../emulator/kafka/codec";
import { waitFor } from "../../../tools/wait-for";

const HUB = "edges";
const PASSWORD = "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE";

let stack: LocalStack;
const logLines: string[] = [];
const sockets: Socket[] = [];
const workDir = mkdtempSync(path.join(os.tmpdir(), "kafka-edges-"));

function kafka(target: LocalStack = stack): Kafka {
  return new Kafka({
    clientId: "edges",
    brokers: [target.kafkaBootstrapServers],
    sasl: { mechanism: "plain", username: "$ConnectionString", password: PASSWORD },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

/** A raw connection that collects every response frame (size prefix removed). */
class RawClient {
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private correlation = 0;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4 && this.pending.length >= 4 + this.pending.readInt32BE(0)) {
        this.frames.push(this.pending.subarray(4, 4 + this.pending.readInt32BE(0)));
        this.pending = this.pending.subarray(4 + this.pending.readInt32BE(0));
      }
    });
    socket.on("error", () => undefined);
    this.closed = once(socket, "close").then(() => undefined);
  }

  static async open(): Promise<RawClient> {
    const socket = createConnection({ host: "127.0.0.1", port: stack.kafkaPort });
    sockets.push(socket);
    await once(socket, "connect");
    return new RawClient(socket);
  }

  /** Sends a request with a v1 header and waits for its response body. */
  async request(apiKey: number, version: number, body: (w: Writer) => void): Promise<Reader> {
    const request = new Writer().int16(apiKey).int16(version).int32(++this.correlation).nullableString("raw");
    body(request);
    const bytes = request.toBuffer();
    const expected = this.frames.length + 1;
    this.writeFrame(bytes);
    await waitFor("a response", () => this.frames.length >= expected, 10_000);
    const response = new Reader(this.frames[expected - 1]!);
    expect(response.int32()).toBe(this.correlation);
    return response;
  }

  writeFrame(bytes: Buffer): void {
    this.socket.write(frame(bytes));
  }

  /** SaslHandshake v1 + SaslAuthenticate v0 with the emulator's key. */
  async login(): Promise<void> {
    const handshake = await this.request(17, 1, (w) => w.string("PLAIN"));
    expect(handshake.int16()).toBe(0);
    const auth = await this.request(36, 0, (w) => w.bytes(plainToken(PASSWORD)));
    expect(auth.int16()).toBe(0);
  }
}

const frame = (bytes: Buffer): Buffer => {
  const size = Buffer.alloc(4);
  size.writeInt32BE(bytes.length);
  return Buffer.concat([size, bytes]);
};
const plainToken = (password: string) => Buffer.from(`\0$ConnectionString\0${password}`, "utf8");
const metadataV0 = (w: Writer) => w.array([HUB], (a, topic) => a.string(topic));

beforeAll(async () => {
  stack = await startLocalStack({
    config: { hubs: [{ name: HUB, partitionCount: 2 }] },
    logger: pino({ level: "warn" }, { write: (line: string) => logLines.push(line) }),
  });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});
afterAll(async () => {
  await stack?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe("the Kafka endpoint's edges", () => {
  it("closes a connection whose request header claims 2 GB, at its first four bytes", async () => {
    const client = await RawClient.open();
    client.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await client.closed;
    expect(logLines.some((line) => line.includes("a request declares 2147483647 bytes, more than the 65536 bytes allowed"))).toBe(true);
  });

  it("before login, refuses requests over 64 KiB and everything but ApiVersions and SASL", async () => {
    const large = await RawClient.open();
    large.socket.write(Buffer.from([0x00, 0x10, 0x00, 0x00])); // 1 MiB: fine after login, not before
    await large.closed;

    const early = await RawClient.open();
    const versions = await early.request(18, 0, () => undefined);
    expect(versions.int16()).toBe(0);
    const apis = versions.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis.find((api) => api.key === 0)).toEqual({ key: 0, min: 0, max: 9 });
    early.writeFrame(new Writer().int16(3).int16(0).int32(9).nullableString("raw").array([HUB], (a, t) => a.string(t)).toBuffer());
    await early.closed;
    expect(logLines.some((line) => line.includes("Metadata before SASL authentication"))).toBe(true);
  });

  it("answers an ApiVersions version it does not serve with its table, and keeps the connection", async () => {
    const client = await RawClient.open();
    const answer = await client.request(18, 99, () => undefined);
    expect(answer.int16()).toBe(35); // UNSUPPORTED_VERSION, in v0 form
    expect(answer.array((r) => [r.int16(), r.int16(), r.int16()]).some(([key]) => key === 18)).toBe(true);
    const retry = await client.request(18, 0, () => undefined);
    expect(retry.int16()).toBe(0);
  });

  it("serves the SaslHandshake v0 flow (a bare token frame) and closes on a wrong key", async () => {
    const client = await RawClient.open();
    expect((await client.request(17, 0, (w) => w.string("PLAIN"))).int16()).toBe(0);
    client.writeFrame(plainToken(PASSWORD));
    await waitFor("the empty SASL answer", () => client.frames.length === 2, 10_000);
    expect(client.frames[1]!.length).toBe(0);
    const metadata = await client.request(3, 0, metadataV0);
    metadata.array((r) => [r.int32(), r.string(), r.int32()]); // brokers
    expect(metadata.array((r) => ({ error: r.int16(), name: r.string() }))[0]).toMatchObject({ error: 0, name: HUB });

    const refused = await RawClient.open();
    expect((await refused.request(17, 0, (w) => w.string("PLAIN"))).int16()).toBe(0);
    refused.writeFrame(plainToken(PASSWORD.replace("SAS_KEY_VALUE", "wrong")));
    await refused.closed;
    expect(refused.frames).toHaveLength(1);
  });

  it("closes only the connection that sent a bad request", async () => {
    const producer = kafka().producer();
    await producer.connect();
    try {
      const bad = await RawClient.open();
      await bad.login();
      bad.writeFrame(new Writer().int16(999).int16(0).int32(1).nullableString("raw").toBuffer()); // no such API
      await bad.closed;
      const garbled = await RawClient.open();
      await garbled.login();
      garbled.writeFrame(new Writer().int16(3).int16(1).int32(2).nullableString("raw").int32(5).toBuffer()); // 5 topics, no bytes
      await garbled.closed;
      const [result] = await producer.send({ topic: HUB, messages: [{ value: "still here" }] });
      expect(result!.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }
  });

  it("bounds a fetch by the client's max bytes, yet always returns the first batch whole", async () => {
    const producer = kafka().producer();
    await producer.connect();
    let from = 0; // other tests may have written to the partition before
    try {
      for (let i = 0; i < 3; i++) {
        const [sent] = await producer.send({ topic: HUB, messages: [{ value: Buffer.alloc(5000, i), partition: 1 }], acks: -1 });
        if (i === 0) from = Number(sent!.baseOffset);
        // Appends within one millisecond share a batch (Kafka's log-append time is per batch): one send a batch.
        const sentAt = Date.now();
        await waitFor("the clock to pass the append's millisecond", () => Date.now() > sentAt, 1000);
      }
    } finally {
      await producer.disconnect();
    }
    const client = await RawClient.open();
    await client.login();
    const fetch = (maxBytes: number) =>
      client.request(1, 4, (w) => {
        w.int32(-1).int32(0).int32(1).int32(maxBytes).int8(0);
        w.array([HUB], (t, topic) => t.string(topic).array([1], (p, partition) => p.int32(partition).int64(from).int32(maxBytes)));
      });
    const recordBytes = async (maxBytes: number) => {
      const response = await fetch(maxBytes);
      response.int32(); // throttle
      const [records] = response.array((t) => {
        t.string();
        return t.array((p) => {
          p.int32();
          p.int16();
          p.int64();
          p.int64();
          p.array((a) => [a.int64(), a.int64()]);
          return p.bytes().length;
        });
      });
      return records![0]!;
    };
    const one = await recordBytes(100); // far below one batch: the first comes anyway
    expect(one).toBeGreaterThan(5000);
    expect(one).toBeLessThan(10_000);
    expect(await recordBytes(1_000_000)).toBeGreaterThanOrEqual(3 * 5000);
  });
});

describe("committed offsets with a data directory", () => {
  it("survive an emulator restart", async () => {
    const dataDir = path.join(workDir, "data");
    const start = () => startLocalStack({ dataDir, config: { hubs: [{ name: HUB, partitionCount: 2 }] }, logger: pino({ level: "silent" }) });
    let first: LocalStack | undefined = await start();
    try {
      const admin = kafka(first).admin();
      await admin.connect();
      await admin.setOffsets({ groupId: "durable", topic: HUB, partitions: [{ partition: 0, offset: "7" }, { partition: 1, offset: "3" }] });
      await admin.disconnect();
      await first.stop();
      first = undefined;
      const second = await start();
      try {
        const again = kafka(second).admin();
        await again.connect();
        const [committed] = await again.fetchOffsets({ groupId: "durable", topics: [HUB] });
        await again.disconnect();
        expect(committed!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual(["7", "3"]);
      } finally {
        await second.stop();
      }
    } finally {
      await first?.stop();
    }
  });
});
