import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { ContainerClient } from "@azure/storage-blob";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type RunningAzurite, startAzurite } from "../../emulator/azurite";

const running: RunningAzurite[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
async function start(options: Parameters<typeof startAzurite>[0]): Promise<RunningAzurite> {
  const azurite = await startAzurite(options);
  running.push(azurite);
  return azurite;
}
const ids = { fullyQualifiedNamespace: "127.0.0.1", eventHubName: "events", consumerGroup: "ai-workers" };

describe("Azurite in-process", () => {
  it("serves the current storage SDK (API version check skipped) and the real BlobCheckpointStore", async () => {
    const azurite = await start({ containers: ["checkpoints-ai-workers", "dead-letters"] });
    expect(azurite.port).toBeGreaterThan(0);
    expect(azurite.connectionString).toContain(`BlobEndpoint=http://127.0.0.1:${azurite.port}/devstoreaccount1;`);
    expect(azurite.connectionString).toContain("AccountName=devstoreaccount1;");

    const container = new ContainerClient(azurite.connectionString, "checkpoints-ai-workers");
    expect(await container.exists()).toBe(true);
    expect(await new ContainerClient(azurite.connectionString, "dead-letters").exists()).toBe(true);
    const store = new BlobCheckpointStore(container);

    const claimed = await store.claimOwnership([{ ...ids, partitionId: "0", ownerId: "worker-a" }, { ...ids, partitionId: "1", ownerId: "worker-a" }]);
    expect(claimed.map((o) => o.partitionId).sort()).toEqual(["0", "1"]);
    const listed = await store.listOwnership(ids.fullyQualifiedNamespace, ids.eventHubName, ids.consumerGroup);
    expect(listed.map((o) => [o.partitionId, o.ownerId]).sort()).toEqual([["0", "worker-a"], ["1", "worker-a"]]);

    // A claim with a stale ETag loses (HTTP 412) and is skipped, as the load balancer expects.
    const stale = { ...claimed[0]!, ownerId: "worker-b", etag: '"0x0000000000000"' };
    expect(await store.claimOwnership([stale])).toEqual([]);
    const steal = await store.claimOwnership([{ ...claimed[0]!, ownerId: "worker-b" }]);
    expect(steal.map((o) => o.ownerId)).toEqual(["worker-b"]);

    await store.updateCheckpoint({ ...ids, partitionId: "0", sequenceNumber: 41, offset: "12345" });
    await store.updateCheckpoint({ ...ids, partitionId: "0", sequenceNumber: 42, offset: "12400" });
    await store.updateCheckpoint({ ...ids, partitionId: "1", sequenceNumber: 3, offset: "96" });
    const checkpoints = await store.listCheckpoints(ids.fullyQualifiedNamespace, ids.eventHubName, ids.consumerGroup);
    expect(checkpoints.map((c) => [c.partitionId, c.sequenceNumber, c.offset]).sort()).toEqual([
      ["0", 42, "12400"],
      ["1", 3, "96"],
    ]);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toContain("127.0.0.1/events/ai-workers/checkpoint/0");
  });

  it("keeps each in-memory server's blobs to itself and frees its port on stop", async () => {
    const first = await start({ containers: ["first-container"] });
    const second = await start({});
    expect(second.port).not.toBe(first.port);
    expect(await new ContainerClient(second.connectionString, "first-container").exists()).toBe(false);
    const port = first.port;
    await first.stop();
    await first.stop(); // idempotent
    const again = await start({ port });
    expect(again.port).toBe(port);
    expect(await new ContainerClient(again.connectionString, "first-container").exists()).toBe(false);
  });

  it("keeps blobs on disk under dataDir/blob across restarts", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "azurite-"));
    dirs.push(dataDir);
    const first = await start({ dataDir, containers: ["checkpoints-ai-workers"] });
    await new BlobCheckpointStore(new ContainerClient(first.connectionString, "checkpoints-ai-workers")).updateCheckpoint({ ...ids, partitionId: "2", sequenceNumber: 7, offset: "700" });
    await first.stop();

    const second = await start({ dataDir });
    const checkpoints = await new BlobCheckpointStore(new ContainerClient(second.connectionString, "checkpoints-ai-workers")).listCheckpoints(ids.fullyQualifiedNamespace, ids.eventHubName, ids.consumerGroup);
    expect(checkpoints.map((c) => [c.partitionId, c.sequenceNumber, c.offset])).toEqual([["2", 7, "700"]]);
  });
});
