// privateNetworking with the hosted worker and a model, under Pulumi mocks: the network and its subnets, one
// private endpoint per service with its group id and privatelink zone (linked to the network), public access
// Disabled everywhere, the environment on its delegated subnet, and a diagnostic setting on each resource.
// One program run serves every assertion.
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_LOGS, ALL_METRICS } from "../../infra/diagnostics";
import { ofType, runProgram, single, stackConfig, type ProgramRun } from "./programHarness";

const PRIMARY = { name: "primary", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 30 };
const PRIVATE = {
  deployWorker: true,
  workerImage: "ai-worker:1.0.0",
  privateNetworking: true,
  publicNetworkAccess: "Disabled",
  workerRegistrySku: "Premium",
  model: { task: "chat", deployments: [PRIMARY] },
};

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(stackConfig("dev", PRIVATE));
});

const idOf = (type: string) => single(run, type).id!;

describe("the network", () => {
  it("creates a virtual network with the configured address space and two subnets in it", () => {
    const vnet = single(run, "azure-native:network:VirtualNetwork");
    expect(vnet.inputs).toMatchObject({ virtualNetworkName: "vnet-aiwork-workers", addressSpace: { addressPrefixes: ["10.60.0.0/16"] }, location: "westeurope" });
    const subnets = ofType(run, "azure-native:network:Subnet").map((s) => s.inputs);
    expect(subnets.map((s) => [s.subnetName, s.addressPrefix, s.virtualNetworkName])).toEqual([
      ["snet-private-endpoints", "10.60.2.0/24", "vnet-aiwork-workers"],
      ["snet-container-apps", "10.60.0.0/23", "vnet-aiwork-workers"],
    ]);
    expect(subnets[0]).toMatchObject({ privateEndpointNetworkPolicies: "Disabled" });
    expect(subnets[1]!.delegations).toEqual([{ name: "container-apps", serviceName: "Microsoft.App/environments" }]);
  });

  it("puts the Container Apps environment on its delegated subnet, internal", () => {
    const environment = single(run, "azure-native:app:ManagedEnvironment").inputs;
    const subnet = ofType(run, "azure-native:network:Subnet").find((s) => s.inputs.subnetName === "snet-container-apps")!;
    expect(environment.vnetConfiguration).toEqual({ infrastructureSubnetId: subnet.id, internal: true });
  });
});

describe("private endpoints", () => {
  const expected = [
    ["namespace", "azure-native:eventhub:Namespace", "privatelink.servicebus.windows.net"],
    ["blob", "azure-native:storage:StorageAccount", "privatelink.blob.core.windows.net"],
    ["registry", "azure-native:containerregistry:Registry", "privatelink.azurecr.io"],
    ["account", "azure-native:cognitiveservices:Account", "privatelink.openai.azure.com"],
  ] as const;

  it("connects one endpoint to each service with its group id, in the endpoint subnet", () => {
    const endpointSubnet = ofType(run, "azure-native:network:Subnet").find((s) => s.inputs.subnetName === "snet-private-endpoints")!;
    const endpoints = ofType(run, "azure-native:network:PrivateEndpoint").map((e) => e.inputs);
    expect(endpoints.map((e) => [e.privateLinkServiceConnections[0].groupIds, e.privateLinkServiceConnections[0].privateLinkServiceId])).toEqual(
      expected.map(([groupId, type]) => [[groupId], idOf(type)]),
    );
    for (const endpoint of endpoints) expect(endpoint.subnet).toMatchObject({ id: endpointSubnet.id });
  });

  it("publishes each endpoint in its privatelink zone, every zone linked to the network without auto-registration", () => {
    const zones = ofType(run, "azure-native:privatedns:PrivateZone");
    expect(zones.map((z) => [z.inputs.privateZoneName, z.inputs.location])).toEqual(expected.map(([, , zone]) => [zone, "global"]));
    const links = ofType(run, "azure-native:privatedns:VirtualNetworkLink").map((l) => l.inputs);
    expect(links.map((l) => l.privateZoneName)).toEqual(expected.map(([, , zone]) => zone));
    for (const link of links) expect(link).toMatchObject({ virtualNetwork: { id: idOf("azure-native:network:VirtualNetwork") }, registrationEnabled: false });
    const groups = ofType(run, "azure-native:network:PrivateDnsZoneGroup").map((g) => g.inputs);
    expect(groups.map((g) => g.privateDnsZoneConfigs[0].privateDnsZoneId)).toEqual(zones.map((z) => z.id));
    expect(groups.map((g) => g.privateEndpointName)).toEqual(["pe-aiwork-namespace", "pe-aiwork-blob", "pe-aiwork-registry", "pe-aiwork-openai"]);
  });

  it("turns public network access off on the namespace, storage, registry and Azure OpenAI account", () => {
    expect(single(run, "azure-native:eventhub:Namespace").inputs.publicNetworkAccess).toBe("Disabled");
    expect(single(run, "azure-native:storage:StorageAccount").inputs.publicNetworkAccess).toBe("Disabled");
    expect(single(run, "azure-native:containerregistry:Registry").inputs).toMatchObject({ publicNetworkAccess: "Disabled", sku: { name: "Premium" } });
    expect(single(run, "azure-native:cognitiveservices:Account").inputs.properties.publicNetworkAccess).toBe("Disabled");
  });

  it("starts the worker only after every endpoint exists", () => {
    const app = single(run, "azure-native:app:ContainerApp");
    for (const endpoint of ofType(run, "azure-native:network:PrivateEndpoint")) expect(app.dependencies).toContain(endpoint.urn);
  });
});

describe("diagnostics", () => {
  it("sends allLogs and AllMetrics of the namespace, blob service, registry and account, and the environment's metrics, to the workspace", () => {
    const workspaceId = idOf("azure-native:operationalinsights:Workspace");
    const settings = ofType(run, "azure-native:monitor:DiagnosticSetting").map((d) => d.inputs);
    const blobService = idOf("azure-native:storage:BlobServiceProperties");
    // Registered as their resources' ids resolve: compare in id order.
    expect(settings.map((s) => [s.resourceUri, s.logs.map((l: { categoryGroup: string }) => l.categoryGroup)]).sort()).toEqual([
      [idOf("azure-native:eventhub:Namespace"), [ALL_LOGS]],
      [blobService, [ALL_LOGS]],
      [idOf("azure-native:containerregistry:Registry"), [ALL_LOGS]],
      [idOf("azure-native:cognitiveservices:Account"), [ALL_LOGS]],
      [idOf("azure-native:app:ManagedEnvironment"), []],
    ].sort());
    for (const setting of settings) {
      expect(setting).toMatchObject({ workspaceId, logAnalyticsDestinationType: "Dedicated", metrics: [{ category: ALL_METRICS, enabled: true }] });
    }
  });

  it("makes none with diagnostics false, and sends them to a workspace the stack does not own when given one", async () => {
    const off = await runProgram(stackConfig("dev", { ...PRIVATE, diagnostics: false }));
    expect(ofType(off, "azure-native:monitor:DiagnosticSetting")).toEqual([]);
    const central = "/subscriptions/s/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/log-central";
    const unhosted = await runProgram(stackConfig("dev", { privateNetworking: true, publicNetworkAccess: "Disabled", diagnosticsWorkspaceId: central }));
    const settings = ofType(unhosted, "azure-native:monitor:DiagnosticSetting").map((d) => d.inputs);
    expect(settings.map((s) => s.workspaceId)).toEqual([central, central]);
    // Without hosting there is no environment subnet, registry or model: two endpoints, two zones.
    expect(ofType(unhosted, "azure-native:network:Subnet").map((s) => s.inputs.subnetName)).toEqual(["snet-private-endpoints"]);
    expect(ofType(unhosted, "azure-native:privatedns:PrivateZone").map((z) => z.inputs.privateZoneName)).toEqual([
      "privatelink.servicebus.windows.net",
      "privatelink.blob.core.windows.net",
    ]);
  });
});

describe("an existing network", () => {
  it("adds the subnets to the network given by id, in its resource group, and links the zones to it", async () => {
    const vnetId = "/subscriptions/s/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub";
    const existing = await runProgram(stackConfig("dev", { ...PRIVATE, virtualNetworkId: vnetId }));
    expect(ofType(existing, "azure-native:network:VirtualNetwork")).toEqual([]);
    for (const subnet of ofType(existing, "azure-native:network:Subnet")) {
      expect(subnet.inputs).toMatchObject({ resourceGroupName: "rg-hub", virtualNetworkName: "vnet-hub" });
    }
    for (const link of ofType(existing, "azure-native:privatedns:VirtualNetworkLink")) expect(link.inputs.virtualNetwork).toEqual({ id: vnetId });
  });
});
