// Two workers claiming a partition nobody has owned yet, at the same moment, on a real Azurite: with the blob
// checkpoint store alone both win (the gap this store closes); with first claims made exclusive, exactly one does.
import type { PartitionOwnership } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type RunningAzurite } from "../../emulator/azurite";
import { ExclusiveClaimStore } from "../../worker/exclusive-claim-store";

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzurite({ containers: ["checkpoints-ai-workers"] });
});
afterAll(async () => {
  await azurite?.stop();
});

const claim = (partitionId: string, ownerId: string): PartitionOwnership => ({
  fullyQualifiedNamespace: "ns.servicebus.windows.net", eventHubName: "Events", consumerGroup: "ai-workers", partitionId, ownerId,
});

describe("first claims of a partition", () => {
  const container = () => BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("checkpoints-ai-workers");

  it("are both won through the blob checkpoint store alone, and exactly once through the exclusive one", async () => {
    const plain = new BlobCheckpointStore(container());
    const plainWins = await Promise.all([plain.claimOwnership([claim("0", "a")]), plain.claimOwnership([claim("0", "b")])]);
    expect(plainWins.flat()).toHaveLength(2); // two owners of one partition

    const exclusive = new ExclusiveClaimStore(plain, container());
    const wins = (await Promise.all([exclusive.claimOwnership([claim("1", "a")]), exclusive.claimOwnership([claim("1", "b")])])).flat();
    expect(wins).toHaveLength(1);
    const [listed] = (await plain.listOwnership("ns.servicebus.windows.net", "events", "ai-workers")).filter((o) => o.partitionId === "1");
    expect(listed?.ownerId).toBe(wins[0]?.ownerId);
    // The winner's etag is the one a renewal needs.
    expect(await exclusive.claimOwnership([{ ...wins[0]!, etag: wins[0]!.etag }])).toHaveLength(1);
  });
});
