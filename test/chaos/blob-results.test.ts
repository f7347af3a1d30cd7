// The chaos harness reads the workers' results blobs (one per partition and enqueued hour) as they grow. What it
// judges must be the order the writers appended, not the order it happened to read: a run that crosses an hour
// can see the new hour's blob before the rest of the old one.
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobResults, CHAOS_RESULTS_CONTAINER } from "../../bench/chaos/blob-results";
import { startAzurite, type RunningAzurite } from "../../emulator/azurite";

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzurite({ containers: [CHAOS_RESULTS_CONTAINER] });
});
afterAll(async () => {
  await azurite?.stop();
});

const line = (sequenceNumber: number) => `${JSON.stringify({ partitionId: "3", sequenceNumber, messageId: `m-${sequenceNumber}`, result: { workerPid: 1 } })}\n`;

describe("chaos results", () => {
  it("come blob by blob in name order, each in append order, whatever order they were read in", async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CHAOS_RESULTS_CONTAINER);
    const blob = async (name: string) => {
      const client = container.getAppendBlobClient(name);
      await client.createIfNotExists();
      return (text: string) => client.appendBlock(text, Buffer.byteLength(text));
    };
    const results = new BlobResults(container, () => "w1#1");
    const at17 = await blob("events/3/2026-12-07-17.jsonl");
    const at18 = await blob("events/3/2026-12-07-18.jsonl");
    await at17(line(0));
    await results.poll();
    await at18(line(160)); // read before the rest of hour 17 below
    await results.poll();
    await at17(line(1) + line(2));
    await results.poll();
    expect(results.results.map((r) => r.sequenceNumber)).toEqual([0, 1, 2, 160]);
    expect(results.results.every((r) => r.instance === "w1#1")).toBe(true);
  });
});
