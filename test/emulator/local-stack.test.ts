import { BlobServiceClient } from "@azure/storage-blob";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, type LocalStack, startHealthServer, startLocalStack } from "../../emulator/index";

const retryOptions = { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 };
const stacks: LocalStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
});

describe("startLocalStack", () => {
  it("starts both servers with the shared defaults, creates the containers and reports health", async () => {
    const stack = await startLocalStack();
    stacks.push(stack);
    expect(stack.eventHubConnectionString).toBe(
      `Endpoint=sb://127.0.0.1:${stack.eventHubsPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true`,
    );
    expect(stack.eventHubName).toBe("events");
    expect(stack.consumerGroup).toBe("ai-workers");
    expect(stack.checkpointContainer).toBe("checkpoints-ai-workers");
    expect(stack.deadLetterContainer).toBe("dead-letters");
    expect(stack.storageConnectionString).toContain(`BlobEndpoint=http://127.0.0.1:${stack.blobPort}/devstoreaccount1;`);
    expect(Object.keys(stack.env())).toEqual([
      "EVENTHUB_CONNECTION_STRING", "EVENTHUB_NAME", "EVENTHUB_CONSUMER_GROUP", "STORAGE_CONNECTION_STRING", "CHECKPOINT_CONTAINER", "DEAD_LETTER_CONTAINER",
    ]);

    const containers: string[] = [];
    for await (const container of BlobServiceClient.fromConnectionString(stack.storageConnectionString).listContainers()) containers.push(container.name);
    expect(containers).toEqual(expect.arrayContaining(["checkpoints-ai-workers", "checkpoints-default", "dead-letters"]));

    const producer = new EventHubProducerClient(stack.eventHubConnectionString, stack.eventHubName, { retryOptions });
    try {
      expect((await producer.getEventHubProperties()).partitionIds).toEqual(["0", "1", "2", "3"]);
    } finally {
      await producer.close();
    }

    const health = await startHealthServer(stack);
    try {
      const ok = await fetch(health.url);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        status: "ok",
        eventHubs: { up: true, port: stack.eventHubsPort, namespace: "emulatorns1" },
        blob: { up: true, port: stack.blobPort },
        hubs: [{ name: "events", partitionCount: 4, consumerGroups: ["$Default", "ai-workers"] }],
      });
      expect((await fetch(health.url.replace("/health", "/other"))).status).toBe(404);
      await stack.stop();
      await stack.stop(); // idempotent
      const down = await fetch(health.url);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: "unavailable", eventHubs: { up: false }, blob: { up: false } });
    } finally {
      await health.stop();
    }
  });

  it("accepts Microsoft's Config.json shape and picks the first hub and consumer group", async () => {
    const stack = await startLocalStack({
      config: { UserConfig: { NamespaceConfig: [{ Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "eh1", PartitionCount: "2", ConsumerGroups: [{ Name: "cg1" }] }] }] } },
    });
    stacks.push(stack);
    expect([stack.eventHubName, stack.consumerGroup, stack.checkpointContainer]).toEqual(["eh1", "cg1", "checkpoints-cg1"]);
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, "eh1", { retryOptions });
    try {
      expect((await producer.getEventHubProperties()).partitionIds).toEqual(["0", "1"]);
    } finally {
      await producer.close();
    }
  });

  it("refuses a bad config before starting anything", async () => {
    await expect(startLocalStack({ config: { hubs: [{ name: "bad name", partitionCount: 99 }] } })).rejects.toThrow(ConfigError);
    await expect(startLocalStack({ config: { hubs: [{ name: "bad name" }] } })).rejects.toThrow(/hubs\[0\]\.name/);
  });
});
