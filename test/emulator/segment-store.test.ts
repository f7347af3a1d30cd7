import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEmulatorConfig } from "../../emulator/config";
import { parseSelectorFilter } from "../../emulator/event-position";
import { EventHubsNamespace, hubDirectory, type NamespaceOptions } from "../../emulator/namespace";
import type { StoredEvent } from "../../emulator/partition-log";
import { DataDirError } from "../../emulator/segment-store";

let dataDir: string;
let warnings: string[];
const opened: EventHubsNamespace[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "eh-data-"));
  warnings = [];
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((n) => n.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function open(extra: Record<string, unknown> = {}, options: NamespaceOptions = {}): Promise<EventHubsNamespace> {
  const config = parseEmulatorConfig({ hubs: [{ name: "Events", partitionCount: 2 }], dataDir, ...extra }, "test");
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  const namespace = await EventHubsNamespace.open(config, { logger, ...options });
  opened.push(namespace);
  return namespace;
}
async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((n) => n.close()));
}
const partitionDir = (id: string) => path.join(hubDirectory(dataDir, "events"), id);
const segmentFiles = (id: string) => readdirSync(partitionDir(id)).filter((f) => f.endsWith(".seg")).sort();
const snapshot = (events: StoredEvent[]) =>
  events.map((e) => ({ sequenceNumber: e.sequenceNumber, offset: e.offset, enqueuedTimeMs: e.enqueuedTimeMs, partitionKey: e.partitionKey, bytes: e.bytes.toString("hex") }));

describe("durability with a data directory", () => {
  it("reloads identical events, offsets, times, keys and creation time, and continues numbering", async () => {
    let now = 1_700_000_000_000;
    const first = await open({}, { clock: () => now });
    const hub = first.hub("events")!;
    for (let i = 0; i < 50; i++) {
      now += 7;
      const partition = hub.partition(String(i % 2))!;
      partition.append([{ bytes: Buffer.from(`event-${i}-${"x".repeat(i)}`), ...(i % 3 === 0 ? { partitionKey: `kéy-${i}` } : {}) }, { bytes: Buffer.from([i, 0, 255]) }]);
    }
    const before = ["0", "1"].map((id) => snapshot(hub.partition(id)!.read(0, 1000)));
    const createdAt = hub.createdAt.getTime();
    await closeAll();

    now += 1_000;
    const second = await open({}, { clock: () => now });
    const reloaded = second.hub("events")!;
    expect(["0", "1"].map((id) => snapshot(reloaded.partition(id)!.read(0, 1000)))).toEqual(before);
    expect(reloaded.createdAt.getTime()).toBe(createdAt);
    const p0 = reloaded.partition("0")!;
    const lastBefore = before[0]!.at(-1)!;
    // An offset issued before the restart still positions a reader (old checkpoints stay valid).
    expect(p0.startFor(parseSelectorFilter(`amqp.annotation.x-opt-offset > '${lastBefore.offset}'`))).toEqual({ next: lastBefore.sequenceNumber + 1 });
    const [next] = p0.append([{ bytes: Buffer.from("after restart") }]);
    expect(next?.sequenceNumber).toBe(lastBefore.sequenceNumber + 1);
    expect(next?.offset).toBe(lastBefore.offset + Buffer.from(lastBefore.bytes, "hex").length);
    expect(second.retainedBytes).toBe(["0", "1"].reduce((sum, id) => sum + reloaded.partition(id)!.retainedBytes, 0));
  });

  it("truncates a torn tail record to the last whole record and logs it", async () => {
    const first = await open();
    const log = first.hub("events")!.partition("0")!;
    log.append([{ bytes: Buffer.from("one") }, { bytes: Buffer.from("two") }]);
    log.append([{ bytes: Buffer.from("three") }]);
    await closeAll();
    const file = path.join(partitionDir("0"), segmentFiles("0")[0]!);
    const wholeSize = statSync(file).size;
    truncateSync(file, wholeSize - 2); // a crash in the middle of writing "three"

    const second = await open();
    const reloaded = second.hub("events")!.partition("0")!;
    expect(reloaded.read(0, 10).map((e) => e.bytes.toString())).toEqual(["one", "two"]);
    expect(warnings.join("")).toMatch(/cutting a torn tail/);
    expect(warnings.join("")).toMatch(/incomplete record/);
    expect(reloaded.append([{ bytes: Buffer.from("four") }])[0]?.sequenceNumber).toBe(2);
    await closeAll();
    warnings = [];
    const third = await open();
    expect(third.hub("events")!.partition("0")!.read(0, 10).map((e) => e.bytes.toString())).toEqual(["one", "two", "four"]);
    expect(warnings).toEqual([]);
  });

  it("drops a tail record whose checksum does not match, and garbage after it", async () => {
    const first = await open();
    first.hub("events")!.partition("1")!.append([{ bytes: Buffer.from("keep") }, { bytes: Buffer.from("flip") }]);
    await closeAll();
    const file = path.join(partitionDir("1"), segmentFiles("1")[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // corrupt the last record's payload
    writeFileSync(file, bytes);
    appendFileSync(file, Buffer.from("garbage"));
    const second = await open();
    expect(second.hub("events")!.partition("1")!.read(0, 10).map((e) => e.bytes.toString())).toEqual(["keep"]);
    expect(warnings.join("")).toMatch(/checksum mismatch/);
  });

  it("refuses to start when a damaged record is followed by intact ones, and leaves the file as it was", async () => {
    const first = await open();
    const log = first.hub("events")!.partition("0")!;
    for (let i = 0; i < 10; i++) log.append([{ bytes: Buffer.from(`acknowledged-${i}`) }]);
    await closeAll();
    const file = path.join(partitionDir("0"), segmentFiles("0")[0]!);
    const bytes = readFileSync(file);
    const fourth = bytes.indexOf("acknowledged-3");
    bytes[fourth] = bytes[fourth]! ^ 0x01; // one flipped bit in event 3 of 10
    writeFileSync(file, bytes);

    await expect(open()).rejects.toThrow(DataDirError);
    await expect(open()).rejects.toThrow(/checksum mismatch.*intact events after the damage \(sequence number 4 at byte \d+\).*refusing to start/);
    expect(readFileSync(file)).toEqual(bytes); // nothing cut, nothing renumbered
  });

  it("refuses a damaged length field with intact records after it, too", async () => {
    const first = await open();
    first.hub("events")!.partition("1")!.append(Array.from({ length: 5 }, (_, i) => ({ bytes: Buffer.from(`event-${i}`) })));
    await closeAll();
    const file = path.join(partitionDir("1"), segmentFiles("1")[0]!);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(0xfffffff0, 8); // the first record's length now runs past the end of the file
    writeFileSync(file, bytes);
    await expect(open()).rejects.toThrow(/incomplete record at byte 8.*sequence number 1/);
  });

  it("rolls segments, deletes evicted ones, and keeps begin and numbering across restarts", async () => {
    let now = 0;
    const options = { clock: () => now, segmentBytes: 200 };
    const first = await open({ retentionHours: 1 }, options);
    const log = first.hub("events")!.partition("0")!;
    for (let i = 0; i < 40; i++) {
      now += 60_000; // one event per minute
      log.append([{ bytes: Buffer.alloc(20, i) }]);
    }
    expect(segmentFiles("0").length).toBeGreaterThan(3);
    const segmentsBefore = segmentFiles("0").length;
    now += 30 * 60_000;
    first.sweep();
    const begin = log.beginSequenceNumber;
    expect(begin).toBeGreaterThan(0);
    expect(segmentFiles("0").length).toBeLessThan(segmentsBefore);
    await closeAll();

    const second = await open({ retentionHours: 1 }, options);
    const reloaded = second.hub("events")!.partition("0")!;
    expect(reloaded.beginSequenceNumber).toBe(begin);
    expect(reloaded.read(0, 100)[0]?.sequenceNumber).toBe(begin);
    now += 10 * 3_600_000; // everything expires
    second.sweep();
    expect(reloaded.isEmpty).toBe(true);
    await closeAll();

    const third = await open({ retentionHours: 1 }, options);
    const empty = third.hub("events")!.partition("0")!;
    expect(empty.isEmpty).toBe(true);
    expect(empty.lastEnqueued?.sequenceNumber).toBe(39);
    expect(empty.append([{ bytes: Buffer.from("z") }])[0]?.sequenceNumber).toBe(40);
  });

  it("refuses a data directory another live namespace holds, and frees it on close", async () => {
    await open();
    await expect(open()).rejects.toThrow(DataDirError);
    await expect(open()).rejects.toThrow(/in use/);
    await closeAll();
    await expect(open()).resolves.toBeInstanceOf(EventHubsNamespace);
  });

  it("loses nothing acknowledged when the process is killed without closing", async () => {
    const script = path.join(dataDir, "kill.ts");
    writeFileSync(
      script,
      `import { parseEmulatorConfig } from ${JSON.stringify(path.resolve(__dirname, "../../emulator/config"))};
import { EventHubsNamespace } from ${JSON.stringify(path.resolve(__dirname, "../../emulator/namespace"))};
(async () => {
  const ns = await EventHubsNamespace.open(parseEmulatorConfig({ hubs: [{ name: "Events", partitionCount: 2 }], dataDir: ${JSON.stringify(dataDir)} }, "child"));
  const log = ns.hub("events")!.partition("0")!;
  for (let i = 0; i < 100; i++) log.append([{ bytes: Buffer.from("acked-" + i) }]);
  process.kill(process.pid, "SIGKILL");
})();
`,
    );
    // `node --import tsx` runs the script in this one process, so the kill is really its own.
    const result = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: path.resolve(__dirname, "../.."), timeout: 20_000 });
    expect(result.signal).toBe("SIGKILL");
    const reopened = await open();
    const events = reopened.hub("events")!.partition("0")!.read(0, 1000);
    expect(events).toHaveLength(100);
    expect(events.at(-1)?.bytes.toString()).toBe("acked-99");
  });
});
