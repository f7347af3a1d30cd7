// A generic AMQP 1.0 client (Qpid Proton's Python binding, a python3 child process) uses the emulator as it
// would Azure: a SAS token on $cbs with a plain-string reply-to, sends to `<hub>` and
// `<hub>/Partitions/<n>`, and receives from `<hub>/ConsumerGroups/<cg>/Partitions/<n>` with Azure's
// annotation types.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { HUB, producerFor, startEmulator } from "../emulator/broker-helpers";
import { assertInstalled, probePythonClients, runPython, shouldRun } from "./python-clients";

const clients = probePythonClients();

interface ProtonEvent {
  body: string;
  annotations: Record<string, string>;
  types: Record<string, string>;
}

describe.runIf(shouldRun(clients, "Qpid Proton interop"))(`generic AMQP 1.0 client (${clients.summary})`, () => {
  let emulator: EventHubsEmulator;
  const proton = (...args: string[]) =>
    runPython("proton_client.py", args, {
      EMULATOR_PORT: String(emulator.port),
      SAS_KEY_NAME: emulator.config.keys[0]!.name,
      SAS_KEY: emulator.config.keys[0]!.key,
    });

  beforeAll(async () => {
    assertInstalled(clients);
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  const lastSequenceNumbers = async () => {
    const producer = producerFor(emulator);
    try {
      return await Promise.all(["0", "1", "2", "3"].map(async (id) => (await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber));
    } finally {
      await producer.close();
    }
  };

  it("puts a token on $cbs and sends to the hub and to a partition", async () => {
    const toHub = await proton("send", HUB, "4");
    expect(toHub.values("put_token")).toEqual([202]);
    expect(toHub.values("correlation_matches")).toEqual([true]);
    expect(toHub.values("sent")).toEqual([4]);
    // The hub spreads keyless sends round-robin: one event per partition.
    expect(await lastSequenceNumbers()).toEqual([0, 0, 0, 0]);

    await proton("send", `${HUB}/Partitions/2`, "3");
    expect(await lastSequenceNumbers()).toEqual([0, 0, 3, 0]);
  });

  it("receives from a consumer group partition with Azure's annotation types", async () => {
    const run = await proton("receive", `${HUB}/ConsumerGroups/$Default/Partitions/2`, "4");
    const events = run.values<ProtonEvent>("event");
    // The first came through the hub (round-robin), the rest were sent to the partition.
    expect(events.map((e) => e.body)).toEqual([expect.stringMatching(/^proton-\d$/), "proton-0", "proton-1", "proton-2"]);
    expect(events.map((e) => e.annotations["x-opt-sequence-number"])).toEqual(["0", "1", "2", "3"]);
    expect(events[0]?.types).toEqual({ "x-opt-sequence-number": "int", "x-opt-offset": "str", "x-opt-enqueued-time": "timestamp" });
  });

  it("is refused an unknown consumer group with amqp:not-found", async () => {
    await expect(proton("receive", `${HUB}/ConsumerGroups/no-such-group/Partitions/0`, "1")).rejects.toThrow(/amqp:not-found|could not be found/);
  });
});
