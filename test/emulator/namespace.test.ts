import { afterEach, describe, expect, it } from "vitest";
import { parseEmulatorConfig } from "../../emulator/config";
import { EventHubsNamespace } from "../../emulator/namespace";

const opened: EventHubsNamespace[] = [];
async function open(input: unknown, clock?: () => number): Promise<EventHubsNamespace> {
  const namespace = await EventHubsNamespace.open(parseEmulatorConfig(input, "test"), clock ? { clock } : {});
  opened.push(namespace);
  return namespace;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((n) => n.close()));
});

describe("EventHubsNamespace", () => {
  it("builds hubs from config with case-insensitive names and $Default always present", async () => {
    const namespace = await open({ hubs: [{ name: "Orders", partitionCount: 3, consumerGroups: ["Billing"] }, { name: "audit", partitionCount: 1 }] });
    expect(namespace.name).toBe("emulatorns1");
    const hub = namespace.hub("oRdErS");
    expect(hub?.name).toBe("Orders");
    expect(hub?.partitionIds).toEqual(["0", "1", "2"]);
    expect(hub?.hasConsumerGroup("$default")).toBe(true);
    expect(hub?.hasConsumerGroup("$Default")).toBe(true);
    expect(hub?.hasConsumerGroup("BILLING")).toBe(true);
    expect(hub?.hasConsumerGroup("other")).toBe(false);
    expect(hub?.partition("2")?.partitionId).toBe("2");
    expect(hub?.partition("3")).toBeUndefined();
    expect(namespace.hub("audit")?.hasConsumerGroup("billing")).toBe(false);
    expect(namespace.hub("missing")).toBeUndefined();
    expect(hub?.createdAt).toBeInstanceOf(Date);
  });

  it("chooses partitions round-robin and by key as Azure does", async () => {
    const hub = (await open({ hubs: [{ name: "h", partitionCount: 4 }] })).hub("h")!;
    expect(Array.from({ length: 9 }, () => hub.nextRoundRobinPartition())).toEqual(["0", "1", "2", "3", "0", "1", "2", "3", "0"]);
    expect(hub.partitionForKey("user-42")).toBe("3");
    expect(hub.partitionForKey("abc")).toBe("1");
  });

  it("evicts by time on the timer sweep and on append, with an injected clock", async () => {
    let now = 1_000_000;
    const namespace = await open({ hubs: [{ name: "h", partitionCount: 2 }], retentionHours: 1 }, () => now);
    const hub = namespace.hub("h")!;
    hub.partition("0")!.append([{ bytes: Buffer.from("old") }]);
    now += 30 * 60_000;
    hub.partition("1")!.append([{ bytes: Buffer.from("middle") }]);
    now += 31 * 60_000; // the first event is now 61 minutes old
    namespace.sweep();
    expect(hub.partition("0")!.isEmpty).toBe(true);
    expect(hub.partition("0")!.beginSequenceNumber).toBe(1);
    expect(hub.partition("1")!.read(0, 10)).toHaveLength(1);
    expect(namespace.retainedBytes).toBe(6);
    now += 30 * 60_000;
    hub.partition("1")!.append([{ bytes: Buffer.from("new") }]); // append itself evicts the expired one
    expect(hub.partition("1")!.read(0, 10).map((e) => e.bytes.toString())).toEqual(["new"]);
    expect(namespace.retainedBytes).toBe(3);
  });

  it("keeps stored bytes under the memory ceiling by evicting the oldest events namespace-wide", async () => {
    let now = 0;
    const namespace = await open({ hubs: [{ name: "a", partitionCount: 2 }, { name: "b", partitionCount: 1 }], maxMemoryBytes: 100 }, () => now);
    const a0 = namespace.hub("a")!.partition("0")!;
    const a1 = namespace.hub("a")!.partition("1")!;
    const b0 = namespace.hub("b")!.partition("0")!;
    const ten = () => [{ bytes: Buffer.alloc(10, 1) }];
    // Interleave across partitions so the oldest event moves between them.
    const order = [a0, b0, a1, a0, a1, b0, a0, a0, b0, a1];
    for (const log of order) {
      now += 1;
      log.append(ten());
    }
    expect(namespace.retainedBytes).toBe(100);
    now += 1;
    a1.append([{ bytes: Buffer.alloc(25, 2) }]);
    // 125 bytes: the three oldest (a0@1, b0@2, a1@3) go.
    expect(namespace.retainedBytes).toBe(95);
    expect([a0, a1, b0].map((log) => log.beginSequenceNumber)).toEqual([1, 1, 1]);
    expect(a0.read(0, 100)[0]?.enqueuedTimeMs).toBe(4);
    const total = [a0, a1, b0].reduce((sum, log) => sum + log.retainedBytes, 0);
    expect(total).toBe(namespace.retainedBytes);
  });

  it("evicts even the new batch when it alone exceeds the ceiling, keeping numbering", async () => {
    const namespace = await open({ hubs: [{ name: "h", partitionCount: 1 }], maxMemoryBytes: 10 });
    const log = namespace.hub("h")!.partition("0")!;
    log.append([{ bytes: Buffer.alloc(30) }]);
    expect(log.isEmpty).toBe(true);
    expect(log.lastEnqueued?.sequenceNumber).toBe(0);
    expect(log.append([{ bytes: Buffer.alloc(4) }])[0]).toMatchObject({ sequenceNumber: 1, offset: 30 });
    expect(namespace.retainedBytes).toBe(4);
  });
});
