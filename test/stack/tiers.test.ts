import { describe, expect, it } from "vitest";
import {
  configProblemsOf,
  ofType,
  runProgram,
  runRejectedProgram,
  single,
  stackConfig,
  type ConfigValue,
} from "./programHarness";

/** The program must refuse the config before declaring a single resource or calling Azure. */
async function expectRefusedBeforeAnyResource(overrides: Record<string, ConfigValue>, key: string, message: RegExp) {
  const { error, resources, calls } = await runRejectedProgram(stackConfig("dev", overrides));
  const problem = configProblemsOf(error).find((p) => p.key === key);
  expect(problem?.message).toMatch(message);
  expect(resources).toEqual([]);
  expect(calls).toEqual([]);
}

describe("Premium", () => {
  it("builds with processing units, 100 partitions and 90 days of retention", async () => {
    const run = await runProgram(
      stackConfig("dev", { eventHubsSku: "Premium", eventHubsCapacity: 2, partitionCount: 100, retentionHours: 2160 }),
    );
    expect(single(run, "azure-native:eventhub:Namespace").inputs).toMatchObject({
      sku: { name: "Premium", tier: "Premium", capacity: 2 },
      isAutoInflateEnabled: false,
    });
    expect(single(run, "azure-native:eventhub:EventHub").inputs).toMatchObject({
      partitionCount: 100,
      retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: 2160 },
    });
    expect(run.outputs.partitionCount).toBe(100);
  });

  it("is refused with 101 partitions", async () => {
    await expectRefusedBeforeAnyResource({ eventHubsSku: "Premium", partitionCount: 101 }, "partitionCount", /1-100 partitions/);
  });
});

describe("Standard with auto-inflate", () => {
  it("sends the ceiling only when auto-inflate is on", async () => {
    const run = await runProgram(stackConfig("dev", { eventHubsCapacity: 2, autoInflate: true, autoInflateMaxThroughputUnits: 10 }));
    expect(single(run, "azure-native:eventhub:Namespace").inputs).toMatchObject({
      sku: { name: "Standard", tier: "Standard", capacity: 2 },
      isAutoInflateEnabled: true,
      maximumThroughputUnits: 10,
    });
  });

  it("creates a consumer group and a checkpoint container for each group, skipping the built-in $Default", async () => {
    const run = await runProgram(stackConfig("dev", { consumerGroups: ["ai-workers", "analytics", "$Default"] }));
    expect(ofType(run, "azure-native:eventhub:ConsumerGroup").map((g) => g.inputs.consumerGroupName)).toEqual(["ai-workers", "analytics"]);
    expect(ofType(run, "azure-native:storage:BlobContainer").map((c) => c.inputs.containerName)).toEqual([
      "checkpoints-ai-workers",
      "checkpoints-analytics",
      "checkpoints-default",
      "dead-letters",
    ]);
    expect(run.outputs.consumerGroupName).toBe("ai-workers");
    expect(run.outputs.checkpointContainerName).toBe("checkpoints-ai-workers");
  });
});

describe("Basic", () => {
  it("builds when the workers use $Default: no consumer group resource, checkpoints-default container", async () => {
    const run = await runProgram(stackConfig("dev", { eventHubsSku: "Basic", consumerGroups: ["$Default"], retentionHours: 24 }));
    expect(single(run, "azure-native:eventhub:Namespace").inputs.sku).toEqual({ name: "Basic", tier: "Basic", capacity: 1 });
    expect(ofType(run, "azure-native:eventhub:ConsumerGroup")).toEqual([]);
    expect(run.outputs.consumerGroupName).toBe("$Default");
    expect(run.outputs.checkpointContainerName).toBe("checkpoints-default");
  });

  it("is refused with the default ai-workers group, which Basic cannot have", async () => {
    await expectRefusedBeforeAnyResource({ eventHubsSku: "Basic" }, "consumerGroups", /only the \$Default consumer group/);
  });

  it("is refused with more than a day of retention", async () => {
    await expectRefusedBeforeAnyResource(
      { eventHubsSku: "Basic", consumerGroups: ["$Default"], retentionHours: 48 },
      "retentionHours",
      /1-24 hours/,
    );
  });

  it("is refused with auto-inflate", async () => {
    await expectRefusedBeforeAnyResource(
      { eventHubsSku: "Basic", consumerGroups: ["$Default"], autoInflate: true, autoInflateMaxThroughputUnits: 5 },
      "autoInflate",
      /Standard-tier feature/,
    );
  });
});

describe("through the program", () => {
  it("reports every problem of a bad config in one error", async () => {
    const { error } = await runRejectedProgram(
      stackConfig("dev", { partitionCount: "lots", publicNetworkAccess: "Open", "azure-native:location": "" }),
    );
    expect(configProblemsOf(error).map((p) => p.key).sort()).toEqual(
      ["azure-native:location", "partitionCount", "publicNetworkAccess"].sort(),
    );
  });
});
