// The stack as a component: another program uses it (twice, with other arguments) under Pulumi mocks; a bad
// argument is refused with the config's messages before anything is declared; the schema Pulumi infers for
// `pulumi package add` (the plugin's ComponentProvider, run in-process on component/) names every argument and
// output; and the root program's outputs and its aliases to the URNs from before the component.
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { beforeAll, describe, expect, it } from "vitest";
import { EventHubsAiWorkers } from "../../component/index";
import { CONFIG_KEYS, StackConfigError } from "../../infra/config";
import { EVENT_HUBS_AI_WORKERS_TYPE } from "../../infra/eventHubsAiWorkers";
import { aliasToPreComponentUrns } from "../../infra/rootStackAliases";
import { NAMESPACE_PRINCIPAL_ID, ofType, runProgram, single, stackConfig, type ProgramRun } from "./programHarness";

const namespaceOf = (component: string) => ofType(consumer, "azure-native:eventhub:Namespace").find((n) => n.name === `${component}-event-hubs`);
const loadConsumer = async () => (await import("./consumer/program.js")) as Record<string, unknown>;

let consumer: ProgramRun;
beforeAll(async () => {
  consumer = await runProgram({}, loadConsumer);
});

describe("a second program using the component", () => {
  it("declares two independent pipelines, each under its own component and prefix", () => {
    const namespaces = ofType(consumer, "azure-native:eventhub:Namespace");
    expect(namespaces.map((n) => [n.name, n.inputs.sku.name, n.inputs.location]).sort()).toEqual([
      ["audited-event-hubs", "Premium", "northeurope"],
      ["scratch-event-hubs", "Basic", "northeurope"],
    ]);
    expect(ofType(consumer, "aiworkers:index:EventHubsAiWorkers").map((c) => c.name)).toEqual(["audited", "scratch"]);
    expect(new Set(consumer.urns).size).toBe(consumer.urns.length);
    expect(consumer.outputs.auditedConnectionString).toBeUndefined();
    expect(consumer.outputs.scratchConnectionString).toMatch(/;EntityPath=events$/);
  });

  it("makes the Premium namespace zone redundant, locks it and pairs it for geo-disaster recovery", () => {
    const audited = namespaceOf("audited");
    const scratch = namespaceOf("scratch");
    expect(audited!.inputs.zoneRedundant).toBe(true);
    expect(scratch!.inputs.zoneRedundant).toBeUndefined();
    expect(single(consumer, "azure-native:authorization:ManagementLockByScope").inputs).toMatchObject({ scope: audited!.id, level: "CanNotDelete" });
    expect(single(consumer, "azure-native:eventhub:DisasterRecoveryConfig").inputs).toMatchObject({
      namespaceName: audited!.inputs.namespaceName,
      alias: `${audited!.inputs.namespaceName}-geo`,
      partnerNamespace: "/subscriptions/s/resourceGroups/rg-dr/providers/Microsoft.EventHub/namespaces/evhns-audit-dr",
    });
  });

  it("captures the audited hub as Avro into its capture container, written by the namespace's own identity", () => {
    const audited = namespaceOf("audited");
    expect(audited!.inputs.identity).toEqual({ type: "SystemAssigned" });
    const container = ofType(consumer, "azure-native:storage:BlobContainer").find((c) => c.name === "audited-checkpoints-capture")!;
    const grant = ofType(consumer, "azure-native:authorization:RoleAssignment").find((r) => r.name === "audited-capture-writer")!;
    expect(grant.inputs).toMatchObject({ scope: container.id, principalId: NAMESPACE_PRINCIPAL_ID, principalType: "ServicePrincipal" });
    const hub = ofType(consumer, "azure-native:eventhub:EventHub").find((h) => h.name === "audited-hub")!;
    expect(hub.inputs.captureDescription).toMatchObject({
      enabled: true,
      encoding: "Avro",
      skipEmptyArchives: true,
      destination: { blobContainer: "capture", identity: { type: "SystemAssigned" }, storageAccountResourceId: ofType(consumer, "azure-native:storage:StorageAccount").find((a) => a.name === "audited-checkpoints")!.id },
    });
    expect(hub.dependencies).toContain(grant.urn);
    expect(ofType(consumer, "azure-native:eventhub:EventHub").find((h) => h.name === "scratch-hub")!.inputs.captureDescription).toBeUndefined();
  });
});

describe("bad arguments", () => {
  it("are refused with every problem, key and message, before the component registers anything", async () => {
    let registered = 0;
    await pulumi.runtime.setMocks({
      newResource: ({ name, inputs }) => {
        registered += 1;
        return { id: name, state: inputs };
      },
      call: () => ({}),
    });
    let error: unknown;
    try {
      new EventHubsAiWorkers("bad", { location: "westeurope", eventHubsSku: "Basic", capture: true, zoneRedundant: true, partitionCount: 64 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    expect((error as StackConfigError).problems.map((p) => p.key).sort()).toEqual(["capture", "consumerGroups", "partitionCount", "zoneRedundant"]);
    expect((error as StackConfigError).message).toContain("capture = true: capture is a Standard and Premium feature; Basic namespaces cannot capture");
    expect(registered).toBe(0);
  });
});

describe("the schema `pulumi package add` generates SDKs from", () => {
  let schema: { name: string; resources: Record<string, { inputProperties: Record<string, unknown>; properties: Record<string, unknown> }>; types: Record<string, unknown> };
  beforeAll(async () => {
    const provider = new ComponentProvider({ components: [EventHubsAiWorkers], dirname: path.join(__dirname, "..", "..", "component"), name: "aiworkers" });
    schema = JSON.parse(await provider.getSchema());
  }, 60_000);

  it("names the package aiworkers and the component by its type token", () => {
    expect(schema.name).toBe("aiworkers");
    expect(Object.keys(schema.resources)).toEqual([EVENT_HUBS_AI_WORKERS_TYPE]);
  });

  it("takes every stack setting as an optional plain argument, the model as a typed object", () => {
    const inputs = schema.resources[EVENT_HUBS_AI_WORKERS_TYPE]!.inputProperties as Record<string, { optional?: boolean; plain?: boolean; $ref?: string }>;
    expect(Object.keys(inputs).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const [key, input] of Object.entries(inputs)) expect([key, input.optional, input.plain]).toEqual([key, true, true]);
    expect(inputs.model!.$ref).toBe("#/types/aiworkers:index:ModelArgs");
    expect(Object.keys(schema.types).sort()).toEqual(["aiworkers:index:ExistingModelDeploymentArgs", "aiworkers:index:ModelArgs", "aiworkers:index:ModelDeploymentArgs"]);
  });

  it("outputs what the root program exports, plus the network", async () => {
    const root = await runProgram(stackConfig("dev"));
    const outputs = Object.keys(schema.resources[EVENT_HUBS_AI_WORKERS_TYPE]!.properties);
    expect(outputs.sort()).toEqual([...Object.keys(root.exports), "virtualNetworkId"].sort());
  });
});

describe("the root program", () => {
  it("keeps exactly the outputs it had before the component", async () => {
    const root = await runProgram(stackConfig("dev", { deployWorker: true, workerImage: "ai-worker:1.0.0" }));
    expect(Object.keys(root.exports).sort()).toEqual(
      [
        "resourceGroupName", "namespaceName", "fullyQualifiedNamespace", "eventHubName", "partitionCount", "consumerGroupName",
        "storageAccountName", "blobEndpoint", "checkpointContainerName", "deadLetterContainerName", "connectionString",
        "producerConnectionString", "storageConnectionString", "workerRegistryName", "workerRegistryLoginServer", "workerAppName",
        "workerIdentityClientId", "workerIdentityPrincipalId", "openAiEndpoint", "openAiDeploymentNames",
      ].sort(),
    );
  });

  it("aliases each direct part of its component to the URN it had as a child of the stack, and nothing else", async () => {
    await pulumi.runtime.setMocks({ newResource: ({ name, inputs }) => ({ id: name, state: inputs }), call: () => ({}) });
    const transform = aliasToPreComponentUrns("aiworkers", EVENT_HUBS_AI_WORKERS_TYPE);
    const parent = (urn: string) => ({ urn: pulumi.output(urn) }) as unknown as pulumi.Resource;
    const component = parent(`urn:pulumi:dev::eventhubs-ai-workers::${EVENT_HUBS_AI_WORKERS_TYPE}::aiworkers`);
    const nested = parent(`urn:pulumi:dev::eventhubs-ai-workers::${EVENT_HUBS_AI_WORKERS_TYPE}$aiworkers:infra:CheckpointStorage::aiworkers-checkpoints`);
    const result = await transform({ type: "aiworkers:infra:EventHubsNamespace", name: "aiworkers-event-hubs", custom: false, props: {}, opts: { parent: component } });
    expect(result?.opts.aliases).toEqual([{ name: "event-hubs", parent: pulumi.rootStackResource }]);
    expect(await transform({ type: "azure-native:storage:BlobServiceProperties", name: "aiworkers-checkpoints-blob-service", custom: true, props: {}, opts: { parent: nested } })).toBeUndefined();
    expect(await transform({ type: EVENT_HUBS_AI_WORKERS_TYPE, name: "aiworkers", custom: false, props: {}, opts: {} })).toBeUndefined();
  });
});
