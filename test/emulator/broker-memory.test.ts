// Memory a client can make the emulator hold, measured on a real emulator process (peak resident memory
// from /proc): a multi-frame message far past the 1 MB limit is counted as it arrives and its frames are
// dropped, so the process never holds it; the send is still rejected with message-size-exceeded. Peak
// memory also includes socket buffers the garbage collector has not freed yet, a cost that does not
// grow with the message: so a first large send sets the baseline and a three times larger one must
// not raise the peak by anything near its size.
import { once } from "node:events";
import { create_container, type AmqpError, type Connection, type EventContext } from "rhea";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmulatorProcess } from "../../bench/chaos/emulator-process";

const MB = 1024 * 1024;
const LARGE = 64 * MB;
const HUGE = 192 * MB;

describe.runIf(process.platform === "linux")("emulator memory under a huge multi-frame send", () => {
  let emulator: EmulatorProcess;
  let connection: Connection | undefined;

  beforeAll(async () => {
    emulator = await EmulatorProcess.start({ hubs: [{ name: "events", partitionCount: 1 }], checkSignatures: false });
  });
  afterAll(async () => {
    if (connection?.is_open()) connection.close();
    await emulator?.stop();
  });

  it(`rejects a ${HUGE / MB} MB message without ever holding it`, async () => {
    connection = create_container().connect({ host: "127.0.0.1", port: emulator.port, reconnect: false });
    connection.on("error", () => undefined);
    await once(connection, "connection_open");
    const sender = connection.open_sender({ target: { address: "events/Partitions/0" } });
    await once(sender, "sendable");
    const send = (body: Buffer) =>
      new Promise<{ state: string; error?: AmqpError }>((resolve) => {
        sender.once("accepted", () => resolve({ state: "accepted" }));
        sender.once("rejected", (event: EventContext) => resolve({ state: "rejected", error: (event.delivery?.remote_state as { error?: AmqpError } | undefined)?.error }));
        sender.send({ body });
      });
    expect((await send(Buffer.alloc(1000, 1))).state).toBe("accepted");
    const tooLarge = { state: "rejected", error: { condition: "amqp:link:message-size-exceeded" } };
    expect(await send(Buffer.alloc(LARGE, 7))).toMatchObject(tooLarge);
    const before = emulator.peakRssBytes();

    expect(await send(Buffer.alloc(HUGE, 7))).toMatchObject(tooLarge);
    const growth = emulator.peakRssBytes() - before;
    // Buffering would cost the message's size at least (twice, with the final concatenation). Without it,
    // the growth is socket buffers that wait for a collection, which V8 starts once tens of MB of them
    // pile up: 0-25 MB alone, up to 78 MB seen in a full test run. Half the message separates the two.
    expect(growth, `peak RSS grew by ${(growth / MB).toFixed(1)} MB`).toBeLessThan(HUGE / 2);
    expect((await send(Buffer.alloc(1000, 2))).state).toBe("accepted"); // the link still works
  }, 120_000);
});
