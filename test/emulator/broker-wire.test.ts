// Wire-level behaviour the SDK never exercises on its own, checked with a plain rhea client: link
// credit is respected exactly, links need a CBS token, plain format-0 messages are accepted, and
// unknown addresses are refused.
import { createHmac } from "node:crypto";
import { create_container, types, type AmqpError, type Connection, type EventContext, type Message } from "rhea";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { HUB, producerFor, startEmulator } from "./broker-helpers";
import { waitFor } from "../../tools/wait-for";

const SELECTOR = "apache.org:selector-filter:string";

function token(audience: string): string {
  const sr = encodeURIComponent(audience);
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sig = createHmac("sha256", "SAS_KEY_VALUE").update(`${sr}\n${se}`).digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=RootManageSharedAccessKey`;
}

describe("broker wire behaviour (raw rhea client)", () => {
  let emulator: EventHubsEmulator;
  let connection: Connection;

  beforeAll(async () => {
    emulator = await startEmulator();
    const producer = producerFor(emulator);
    await producer.sendBatch([1, 2, 3, 4, 5].map((n) => ({ body: n })), { partitionId: "0" });
    await producer.close();
    connection = create_container().connect({ host: "127.0.0.1", port: emulator.port, reconnect: false });
    await new Promise<void>((resolve) => connection.once("connection_open", () => resolve()));
  });
  afterAll(async () => {
    if (connection?.is_open()) {
      const closed = new Promise((resolve) => connection.once("connection_close", resolve));
      connection.close();
      await closed;
    }
    await emulator?.stop();
  });

  const audience = (path: string) => `sb://127.0.0.1:${emulator.port}/${path}`;

  async function putToken(path: string): Promise<number> {
    const replyTo = `cbs-reply-${path}`;
    const receiver = connection.open_receiver({ source: { address: "$cbs" }, name: replyTo });
    const sender = connection.open_sender({ target: { address: "$cbs" } });
    await new Promise((resolve) => sender.once("sendable", resolve));
    const reply = new Promise<Message>((resolve) => receiver.once("message", (event: EventContext) => resolve(event.message!)));
    sender.send({
      message_id: `put-${path}`,
      reply_to: replyTo,
      to: "$cbs",
      application_properties: { operation: "put-token", name: audience(path), type: "servicebus.windows.net:sastoken" },
      body: token(audience(path)),
    });
    const message = await reply;
    sender.close();
    receiver.close();
    expect(message.correlation_id).toBe(`put-${path}`);
    return Number(message.application_properties?.["status-code"]);
  }

  function openReader(path: string, filter?: string) {
    const received: Message[] = [];
    const receiver = connection.open_receiver({
      source: { address: path, ...(filter ? { filter: { [SELECTOR]: types.wrap_described(filter, 0x468c00000004) } } : {}) },
      credit_window: 0,
      autoaccept: true,
    });
    receiver.on("message", (event: EventContext) => received.push(event.message!));
    const closed = new Promise<AmqpError | undefined>((resolve) =>
      receiver.once("receiver_close", (event: EventContext) => resolve(event.receiver?.error as AmqpError | undefined)),
    );
    const opened = new Promise((resolve) => receiver.once("receiver_open", resolve));
    return { receiver, received, closed, opened };
  }

  it("refuses a link to an entity without a CBS token with amqp:unauthorized-access", async () => {
    const { closed } = openReader(`${HUB}/ConsumerGroups/$Default/Partitions/1`);
    expect((await closed)?.condition).toBe("amqp:unauthorized-access");
  });

  it("answers put-token with 202 and then sends exactly as many events as the link has credit", async () => {
    const path = `${HUB}/ConsumerGroups/$Default/Partitions/0`;
    expect(await putToken(path)).toBe(202);
    const { receiver, received, opened } = openReader(path, "amqp.annotation.x-opt-offset > '-1'");
    await opened;
    receiver.add_credit(2);
    await waitFor("2 events received", () => received.length === 2, 5000);
    // Five events are stored; with its credit used up the broker must not send a third.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toHaveLength(2);
    receiver.add_credit(3);
    await waitFor("5 events received", () => received.length === 5, 5000);
    expect(received.map((m) => m.message_annotations?.["x-opt-sequence-number"])).toEqual([0, 1, 2, 3, 4]);
    expect(received.map((m) => typeof m.message_annotations?.["x-opt-offset"])).toEqual(Array(5).fill("string"));
    expect(received[0]?.message_annotations?.["x-opt-enqueued-time"]).toBeInstanceOf(Date);
    receiver.close();
  });

  it("honours a drain: sends what is stored, then hands the unused credit back", async () => {
    const path = `${HUB}/ConsumerGroups/$Default/Partitions/0`;
    expect(await putToken(path)).toBe(202);
    const { receiver, received, opened } = openReader(path, "amqp.annotation.x-opt-sequence-number > '1'");
    await opened;
    const drained = new Promise((resolve) => receiver.once("receiver_drained", resolve));
    receiver.add_credit(10);
    receiver.drain_credit();
    await drained;
    expect(received.map((m) => m.message_annotations?.["x-opt-sequence-number"])).toEqual([2, 3, 4]);
    receiver.close();
  });

  it("accepts a plain format-0 message as one event", async () => {
    expect(await putToken(`${HUB}/Partitions/3`)).toBe(202);
    const sender = connection.open_sender({ target: { address: `${HUB}/Partitions/3` } });
    await new Promise((resolve) => sender.once("sendable", resolve));
    const outcome = new Promise<string>((resolve) => {
      sender.once("accepted", () => resolve("accepted"));
      sender.once("rejected", () => resolve("rejected"));
    });
    sender.send({ body: "plain", application_properties: { via: "format-0" } });
    expect(await outcome).toBe("accepted");
    sender.close();
    const producer = producerFor(emulator);
    try {
      expect((await producer.getPartitionProperties("3")).lastEnqueuedSequenceNumber).toBe(0);
    } finally {
      await producer.close();
    }
  });

  it("refuses an address that is no Event Hubs entity with amqp:not-found", async () => {
    const { closed } = openReader("not/an/entity");
    expect((await closed)?.condition).toBe("amqp:not-found");
  });
});
