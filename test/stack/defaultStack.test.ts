import { beforeAll, describe, expect, it } from "vitest";
import { uniqueSuffix } from "../../infra/naming";
import {
  FAKE_SAS_KEY,
  FAKE_STORAGE_KEY,
  ofType,
  runProgram,
  single,
  stackConfig,
  SUBSCRIPTION_ID,
  type ProgramRun,
} from "./programHarness";

/** The dev stack exactly as `pulumi up` would configure it: Pulumi.yaml defaults + Pulumi.dev.yaml. */
let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(stackConfig("dev"));
});

const EXPORTED_OUTPUTS = [
  "resourceGroupName",
  "namespaceName",
  "fullyQualifiedNamespace",
  "eventHubName",
  "partitionCount",
  "consumerGroupName",
  "storageAccountName",
  "blobEndpoint",
  "checkpointContainerName",
  "deadLetterContainerName",
  "connectionString",
  "producerConnectionString",
  "storageConnectionString",
];
/** Exported only when the stack hosts the worker (deployWorker, or workerRegistry for the registry's two). */
const WORKER_OUTPUTS = ["workerRegistryName", "workerRegistryLoginServer", "workerAppName", "workerIdentityClientId", "workerIdentityPrincipalId"];
/** Exported only when the stack creates model deployments (model.deployments). */
const MODEL_OUTPUTS = ["openAiEndpoint", "openAiDeploymentNames"];

describe("resource inventory", () => {
  it("declares exactly the resources of the default stack", () => {
    const inventory = run.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`).sort();
    expect(inventory).toEqual(
      [
        "azure-native:resources:ResourceGroup aiworkers-resource-group",
        "azure-native:eventhub:Namespace aiworkers-event-hubs",
        "azure-native:eventhub:EventHub aiworkers-hub",
        "azure-native:eventhub:ConsumerGroup aiworkers-hub-ai-workers",
        "azure-native:eventhub:EventHubAuthorizationRule aiworkers-hub-access-listen",
        "azure-native:eventhub:EventHubAuthorizationRule aiworkers-hub-access-send",
        "azure-native:storage:StorageAccount aiworkers-checkpoints",
        "azure-native:storage:BlobServiceProperties aiworkers-checkpoints-blob-service",
        "azure-native:storage:BlobContainer aiworkers-checkpoints-checkpoints-ai-workers",
        "azure-native:storage:BlobContainer aiworkers-checkpoints-dead-letters",
      ].sort(),
    );
  });

  it("groups them into one component per concern, each resource parented to its component", () => {
    const components = run.resources.filter((r) => !r.custom).map((r) => r.type).sort();
    expect(components).toEqual(
      [
        "aiworkers:index:EventHubsAiWorkers",
        "aiworkers:infra:CheckpointStorage",
        "aiworkers:infra:EventHubsNamespace",
        "aiworkers:infra:HubAccessRules",
        "aiworkers:infra:ResourceGroup",
        "aiworkers:infra:WorkerEventHub",
      ].sort(),
    );
    const azureUrns = run.urns.filter((urn) => urn.includes("azure-native:"));
    expect(azureUrns).toHaveLength(10);
    for (const urn of azureUrns) expect(urn).toMatch(/::aiworkers:infra:[A-Za-z]+\$azure-native:/);
  });

  it("never touches the namespace-wide RootManageSharedAccessKey or any namespace-level rule", () => {
    expect(ofType(run, "azure-native:eventhub:NamespaceAuthorizationRule")).toEqual([]);
    expect(JSON.stringify(run.resources)).not.toContain("RootManageSharedAccessKey");
    expect(JSON.stringify(run.calls)).not.toContain("RootManageSharedAccessKey");
  });
});

describe("Event Hubs", () => {
  it("creates a Standard namespace with TLS 1.2, explicit public access, SAS on and tags", () => {
    const { inputs } = single(run, "azure-native:eventhub:Namespace");
    expect(inputs).toMatchObject({
      resourceGroupName: "rg-aiwork-dev",
      location: "westeurope",
      namespaceName: `evhns-aiwork-${uniqueSuffix(SUBSCRIPTION_ID, "rg-aiwork-dev")}`,
      sku: { name: "Standard", tier: "Standard", capacity: 1 },
      isAutoInflateEnabled: false,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: "Enabled",
      disableLocalAuth: false,
      tags: { environment: "dev", "managed-by": "pulumi", "pulumi-project": "eventhubs-ai-workers", "pulumi-stack": "dev" },
    });
    expect(inputs.maximumThroughputUnits).toBeUndefined();
    expect(inputs.namespaceName).toMatch(/^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/);
  });

  it("creates the hub with 4 partitions and retention in hours, never the legacy days field", () => {
    const namespace = single(run, "azure-native:eventhub:Namespace").inputs;
    const { inputs } = single(run, "azure-native:eventhub:EventHub");
    expect(inputs).toMatchObject({
      namespaceName: namespace.namespaceName,
      eventHubName: "events",
      partitionCount: 4,
      retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: 24 },
    });
    expect(inputs).not.toHaveProperty("messageRetentionInDays");
  });

  it("creates the workers' consumer group on the hub with user metadata", () => {
    const { inputs } = single(run, "azure-native:eventhub:ConsumerGroup");
    expect(inputs).toMatchObject({ eventHubName: "events", consumerGroupName: "ai-workers" });
    expect(inputs.userMetadata).toContain("checkpoints-ai-workers");
    expect(inputs.userMetadata).toContain("eventhubs-ai-workers/dev");
  });

  it("scopes both SAS rules to the hub: Listen for workers, Send for producers, nothing more", () => {
    const rules = ofType(run, "azure-native:eventhub:EventHubAuthorizationRule").map((r) => r.inputs);
    expect(rules.map((r) => [r.authorizationRuleName, r.eventHubName, r.rights])).toEqual([
      ["workers-listen", "events", ["Listen"]],
      ["producers-send", "events", ["Send"]],
    ]);
  });
});

describe("checkpoint storage", () => {
  it("is a locked-down general-purpose v2 account in the namespace's region", () => {
    const { inputs } = single(run, "azure-native:storage:StorageAccount");
    expect(inputs).toMatchObject({
      location: "westeurope",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      isHnsEnabled: false,
      allowSharedKeyAccess: true,
      publicNetworkAccess: "Enabled",
    });
    expect(inputs.accountName).toBe(`staiwork${uniqueSuffix(SUBSCRIPTION_ID, "rg-aiwork-dev")}`);
    expect(inputs.accountName).toMatch(/^[a-z0-9]{3,24}$/);
  });

  it("turns soft delete and versioning off, as the checkpoint-store guidance asks", () => {
    const { inputs } = single(run, "azure-native:storage:BlobServiceProperties");
    expect(inputs).toMatchObject({
      blobServicesName: "default",
      deleteRetentionPolicy: { enabled: false },
      containerDeleteRetentionPolicy: { enabled: false },
      isVersioningEnabled: false,
    });
  });

  it("has a private container per consumer group plus the dead-letter container", () => {
    const containers = ofType(run, "azure-native:storage:BlobContainer").map((c) => c.inputs);
    expect(containers.map((c) => c.containerName)).toEqual(["checkpoints-ai-workers", "dead-letters"]);
    for (const c of containers) expect(c.publicAccess).toBe("None");
  });
});

describe("outputs", () => {
  it("exports exactly the documented names, each with a value, and no worker hosting or model outputs", () => {
    expect(Object.keys(run.exports).sort()).toEqual([...EXPORTED_OUTPUTS, ...WORKER_OUTPUTS, ...MODEL_OUTPUTS].sort());
    for (const name of EXPORTED_OUTPUTS) expect(run.outputs[name], name).toBeDefined();
    for (const name of [...WORKER_OUTPUTS, ...MODEL_OUTPUTS]) expect(run.outputs[name], name).toBeUndefined();
    const account = single(run, "azure-native:storage:StorageAccount").inputs.accountName as string;
    const namespace = single(run, "azure-native:eventhub:Namespace").inputs.namespaceName as string;
    expect(run.outputs).toMatchObject({
      resourceGroupName: "rg-aiwork-dev",
      namespaceName: namespace,
      fullyQualifiedNamespace: `${namespace}.servicebus.windows.net`,
      eventHubName: "events",
      partitionCount: 4,
      consumerGroupName: "ai-workers",
      storageAccountName: account,
      blobEndpoint: `https://${account}.blob.core.windows.net/`,
      checkpointContainerName: "checkpoints-ai-workers",
      deadLetterContainerName: "dead-letters",
    });
  });

  it("marks the three connection strings, and only them, as secrets", () => {
    expect([...run.secretOutputs].sort()).toEqual(["connectionString", "producerConnectionString", "storageConnectionString"]);
  });

  it("builds the connection strings from the hub-scoped rules' and the account's keys", () => {
    const keyCalls = run.calls.filter((c) => c.token === "azure-native:eventhub:listEventHubKeys").map((c) => c.inputs);
    expect(keyCalls.map((c) => [c.authorizationRuleName, c.eventHubName]).sort()).toEqual([
      ["producers-send", "events"],
      ["workers-listen", "events"],
    ]);
    expect(run.outputs.connectionString).toMatch(/;SharedAccessKeyName=workers-listen;/);
    expect(run.outputs.connectionString).toMatch(new RegExp(`;SharedAccessKey=${FAKE_SAS_KEY};EntityPath=events$`));
    expect(run.outputs.producerConnectionString).toMatch(/;SharedAccessKeyName=producers-send;.*;EntityPath=events$/);
    const account = run.outputs.storageAccountName as string;
    expect(run.outputs.storageConnectionString).toBe(
      `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=${FAKE_STORAGE_KEY};BlobEndpoint=https://${account}.blob.core.windows.net/`,
    );
  });

  it("makes no invokes beyond the client config and the two kinds of key listing", () => {
    expect(run.calls.map((c) => c.token).sort()).toEqual([
      "azure-native:authorization:getClientConfig",
      "azure-native:eventhub:listEventHubKeys",
      "azure-native:eventhub:listEventHubKeys",
      "azure-native:storage:listStorageAccountKeys",
    ]);
  });

  it("keeps the same globally unique names on a second run (repeated `up`s do not churn)", async () => {
    const again = await runProgram(stackConfig("dev"));
    expect(again.outputs.namespaceName).toBe(run.outputs.namespaceName);
    expect(again.outputs.storageAccountName).toBe(run.outputs.storageAccountName);
  });
});
