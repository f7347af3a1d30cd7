// The explorer's JSON API against the emulator and Azurite with a real worker process: partitions, consumer
// group owners, checkpoints and lag, peeks that checkpoint nothing, the worker's metrics, dead letters, and
// the guards around writes.
import { get as httpGet } from "node:http";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { parseConnection } from "../../explorer/settings";
import { startExplorer, type ExplorerServer } from "../../explorer/server";
import { fourPartitionHubs, readDeadLetters, sendToEveryPartition } from "../support/hub-fixtures";
import { waitFor } from "../../tools/wait-for";
import { exitOf, type TestWorker, WorkerFleet } from "../support/worker-process";

const HUB = "api";
let stack: LocalStack;
let worker: TestWorker;
let readOnly: ExplorerServer;
let writable: ExplorerServer;
const workers = new WorkerFleet(() => stack.env());

interface Overview {
  allowWrites: boolean;
  hubs: Array<{
    name: string;
    partitions: Array<{ id: string; lastEnqueuedSequenceNumber: number; retainedEvents: number; oldestRetainedOnUtc: string | null }>;
    consumerGroups: Array<{ consumerGroup: string; partitions: Array<{ id: string; ownerId: string | null; checkpoint: { sequenceNumber: number } | null; lagEvents: number; lagSeconds: number | null; ownershipAgeSeconds: number | null }> }>;
  }>;
  workers: Array<{ url: string; error?: string; processed?: Record<string, number>; deadLettered?: Record<string, number>; ownedPartitions?: number }>;
}

async function get<T>(server: ExplorerServer, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, server.url));
  return { status: response.status, body: (await response.json()) as T };
}

async function post<T>(server: ExplorerServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, server.url), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

const overview = async (server = readOnly) => (await get<Overview>(server, "/api/overview")).body;
const groupOf = (o: Overview) => o.hubs[0]!.consumerGroups[0]!;

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs(HUB) });
  await sendToEveryPartition(stack.eventHubConnectionString, HUB, 10, (i) => i === 4);
  worker = workers.start("api", HUB, { CHECKPOINT_EVERY_EVENTS: "5" });
  const metricsPort = await worker.started(30_000);
  const parsed = parseConnection({}, { ...stack.env(), EVENTHUB_NAME: HUB });
  if (!("connection" in parsed)) throw new Error(parsed.problems.join("\n"));
  const config = {
    connection: parsed.connection,
    hubs: [HUB],
    consumerGroups: ["ai-workers"],
    peekConsumerGroup: "$Default",
    workerMetricsUrls: () => [`http://127.0.0.1:${metricsPort}/metrics`],
    title: "test",
  };
  [readOnly, writable] = await Promise.all([
    startExplorer({ ...config, allowWrites: false }, { host: "127.0.0.1", port: 0 }),
    startExplorer({ ...config, allowWrites: true }, { host: "127.0.0.1", port: 0 }),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([readOnly?.close(), writable?.close()]);
  await workers.disposeAll();
  await stack?.stop();
});

describe("explorer API", () => {
  it("shows partitions, the running worker as owner, its checkpoints, zero lag and its own metrics", async () => {
    await waitFor(
      "checkpoints at the last event of every partition",
      async () => groupOf(await overview()).partitions.every((p) => p.checkpoint?.sequenceNumber === 9),
      45_000,
      () => worker.describe(),
    );
    const o = await overview();
    expect(o.allowWrites).toBe(false);
    expect(o.hubs.map((h) => h.name)).toEqual([HUB]);
    expect(o.hubs[0]!.partitions.map((p) => [p.id, p.lastEnqueuedSequenceNumber, p.retainedEvents])).toEqual([
      ["0", 9, 10], ["1", 9, 10], ["2", 9, 10], ["3", 9, 10],
    ]);
    expect(o.hubs[0]!.partitions.every((p) => p.oldestRetainedOnUtc !== null)).toBe(true);
    const group = groupOf(o);
    expect(group.consumerGroup).toBe("ai-workers");
    const { ownerId } = await worker.status();
    for (const p of group.partitions) {
      expect(p.ownerId).toBe(ownerId);
      expect(p.lagEvents).toBe(0);
      expect(p.lagSeconds).toBe(0);
      expect(p.ownershipAgeSeconds).toBeGreaterThanOrEqual(0);
    }
    await waitFor("the worker's metrics to count every event", async () => {
      const w = (await overview()).workers[0];
      const total = (r: Record<string, number> | undefined) => Object.values(r ?? {}).reduce((a, b) => a + b, 0);
      return total(w?.processed) === 36 && total(w?.deadLettered) === 4;
    }, 20_000);
    expect((await overview()).workers[0]).toMatchObject({ ownedPartitions: 4, deadLettered: { "0": 1, "1": 1, "2": 1, "3": 1 } });
  });

  it("peeks events from a position, rendered, without creating a checkpoint", async () => {
    const first = await get<{ events: Array<{ sequenceNumber: number; messageId: string; body: { encoding: string; data: { text: string } }; systemProperties: object }> }>(
      readOnly,
      `/api/hubs/${HUB}/partitions/1/events?from=earliest&count=3`,
    );
    expect(first.status).toBe(200);
    expect(first.body.events.map((e) => e.sequenceNumber)).toEqual([0, 1, 2]);
    expect(first.body.events[0]).toMatchObject({ messageId: "p1-0", body: { encoding: "json", data: { text: expect.stringContaining("Message 0 for partition 1") } } });
    const poison = await get<{ events: Array<{ sequenceNumber: number; body: { encoding: string } }> }>(readOnly, `/api/hubs/${HUB}/partitions/1/events?from=4&count=1`);
    expect(poison.body.events).toMatchObject([{ sequenceNumber: 4, body: { encoding: "utf8" } }]);

    const defaultGroup = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient("checkpoints-default");
    const blobs: string[] = [];
    for await (const blob of defaultGroup.listBlobsFlat()) blobs.push(blob.name);
    expect(blobs).toEqual([]);

    const bad = await get<{ problems: string[] }>(readOnly, `/api/hubs/${HUB}/partitions/x/events?from=yesterday&count=500`);
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual([
      'partition "x": allowed: a partition id such as 0',
      'from "yesterday": allowed: earliest | latest | a sequence number | an ISO time',
      'count "500": allowed: an integer from 1 to 100',
    ]);
    expect((await get(readOnly, "/api/hubs/nope/partitions/0/events")).status).toBe(404);
  });

  it("keeps writes off unless allowed, and refuses cross-site and foreign-Host requests", async () => {
    const refused = await post<{ error: string }>(readOnly, "/api/dead-letters/replay", { ids: ["api/ai-workers/0/4"] });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain("start the explorer with --allow-writes");
    expect((await post(readOnly, `/api/hubs/${HUB}/events`, { body: "x" })).status).toBe(403);
    expect((await post(writable, "/api/dead-letters/replay", { ids: ["api/ai-workers/0/4"] }, { origin: "http://evil.example" })).status).toBe(403);
    const form = await fetch(new URL("/api/dead-letters/purge", writable.url), { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(form.status).toBe(415);
    // fetch does not let a caller set Host; a DNS-rebinding page's request would carry the attacker's name.
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      httpGet({ host: "127.0.0.1", port: writable.port, path: "/api/overview", headers: { host: `attacker.example:${writable.port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).once("error", reject),
    );
    expect(rebound).toBe(421);
    expect(await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, HUB)).toHaveProperty("size", 4);
  });

  it("lists, shows, replays and purges dead letters with writes allowed", async () => {
    const list = await get<{ entries: Array<{ id: string; replay: { state: string } }> }>(writable, "/api/dead-letters?partition=0,2&error=json");
    expect(list.body.entries.map((e) => e.id)).toEqual(["api/ai-workers/0/4", "api/ai-workers/2/4"]);
    const bad = await get<{ problems: string[] }>(writable, "/api/dead-letters?state=gone&since=soon");
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(2);
    const entry = await get<{ record: { messageId: string; error: { name: string } } }>(writable, "/api/dead-letters/entry?id=api/ai-workers/2/4");
    expect(entry.body.record).toMatchObject({ messageId: "p2-4", error: { name: "PoisonEventError" } });
    expect((await get(writable, "/api/dead-letters/entry?id=api/ai-workers/2/99")).status).toBe(404);

    const replayed = await post<{ outcomes: Array<{ result: string }> }>(writable, "/api/dead-letters/replay", { ids: ["api/ai-workers/2/4"] });
    expect(replayed.body.outcomes).toMatchObject([{ result: "replayed" }]);
    const again = await post<{ outcomes: Array<{ result: string }> }>(writable, "/api/dead-letters/replay", { ids: ["api/ai-workers/2/4"] });
    expect(again.body.outcomes).toMatchObject([{ result: "already-replayed" }]);
    expect((await post(writable, "/api/dead-letters/replay", {})).status).toBe(400);

    const unconfirmed = await post<{ problems: string[] }>(writable, "/api/dead-letters/purge", { all: true });
    expect(unconfirmed.status).toBe(400);
    const purged = await post<{ outcomes: Array<{ id: string; result: string }> }>(writable, "/api/dead-letters/purge", { all: true, confirm: true });
    expect(purged.body.outcomes).toEqual([{ id: "api/ai-workers/2/4", result: "deleted" }]);
  });

  it("sends a test event when allowed, and shows lag once the worker has stopped", async () => {
    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
    const sent = await post<{ sent: number }>(writable, `/api/hubs/${HUB}/events`, { body: '{"text":"hello from the explorer"}', contentType: "application/json", partitionId: "3" });
    expect(sent).toEqual({ status: 200, body: { sent: 1, hub: HUB } });
    await waitFor("lag on partition 3", async () => groupOf(await overview()).partitions.find((p) => p.id === "3")?.lagEvents === 1, 20_000);
    const p3 = groupOf(await overview()).partitions.find((p) => p.id === "3");
    expect(p3?.ownerId).toBe("");
    expect(p3?.lagSeconds).toBeGreaterThanOrEqual(0);
    const bad = await post<{ problems: string[] }>(writable, `/api/hubs/${HUB}/events`, { body: 1, partitionId: "a" });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(2);
  });
});
