// Every rule of the enterprise settings (private network, registry tier, resilience), each with its key, value
// and message, and the warnings preview shows. Pure: validateStackConfig and stackWarnings, no Pulumi runtime.
import { describe, expect, it } from "vitest";
import { validateStackConfig } from "../../infra/config";
import { stackWarnings } from "../../infra/stackWarnings";
import { problemsOf } from "./configProblems";

const PRIVATE = { location: "westeurope", privateNetworking: true, publicNetworkAccess: "Disabled" };
const HOSTED = { ...PRIVATE, deployWorker: true, workerImage: "ai-worker:1", workerRegistrySku: "Premium" };
const VNET = "/subscriptions/s/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub";

describe("accepted", () => {
  it("a private hosted stack with the defaults' network, and one in an existing network", () => {
    expect(validateStackConfig(HOSTED)).toMatchObject({ privateNetworking: true, virtualNetworkAddressPrefixes: ["10.60.0.0/16"], environmentSubnetPrefix: "10.60.0.0/23" });
    expect(validateStackConfig({ ...HOSTED, virtualNetworkId: VNET, environmentSubnetPrefix: "10.1.0.0/27", privateEndpointSubnetPrefix: "10.1.0.32/28" }).virtualNetworkId).toBe(VNET);
  });

  it("every resilience option on a Premium namespace, and lists as Pulumi stores them", () => {
    const config = validateStackConfig({
      location: "westeurope",
      eventHubsSku: "Premium",
      zoneRedundant: "true",
      namespaceLock: "true",
      capture: "true",
      storageSku: "Standard_ZRS",
      geoDrPartnerNamespaceId: "/subscriptions/s/resourceGroups/rg-dr/providers/Microsoft.EventHub/namespaces/evhns-dr",
      virtualNetworkAddressPrefixes: '["10.60.0.0/16","10.61.0.0/16"]',
    });
    expect(config).toMatchObject({ zoneRedundant: true, namespaceLock: true, capture: true, virtualNetworkAddressPrefixes: ["10.60.0.0/16", "10.61.0.0/16"] });
  });
});

describe("each rule rejects a bad value, naming key, value and what is allowed", () => {
  const cases: Array<[string, Record<string, unknown>, string, unknown, RegExp]> = [
    ["private networking with public access on", { ...PRIVATE, publicNetworkAccess: "Enabled" }, "publicNetworkAccess", "Enabled", /must be Disabled when privateNetworking is true/],
    ["a private registry that cannot take an endpoint", { ...HOSTED, workerRegistrySku: "Basic" }, "workerRegistrySku", "Basic", /must be Premium when privateNetworking is true .*Premium only/],
    ["an unknown registry tier", { location: "westeurope", workerRegistrySku: "Gold" }, "workerRegistrySku", "Gold", /must be one of Basic, Standard, Premium/],
    ["a network id without privateNetworking", { location: "westeurope", virtualNetworkId: VNET }, "virtualNetworkId", VNET, /only applies with privateNetworking true/],
    ["a network id of another type", { ...PRIVATE, virtualNetworkId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/x" }, "virtualNetworkId", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/x", /must be the resource id of a Microsoft.Network\/virtualNetworks resource/],
    ["a workspace id of another type", { location: "westeurope", diagnosticsWorkspaceId: "log-central" }, "diagnosticsWorkspaceId", "log-central", /must be the resource id of a Microsoft.OperationalInsights\/workspaces resource/],
    ["a partner that is not a namespace", { location: "westeurope", geoDrPartnerNamespaceId: "evhns-dr" }, "geoDrPartnerNamespaceId", "evhns-dr", /must be the resource id of a Microsoft.EventHub\/namespaces resource/],
    ["a range with host bits", { ...PRIVATE, environmentSubnetPrefix: "10.60.0.1/23" }, "environmentSubnetPrefix", "10.60.0.1/23", /must be an IPv4 range in CIDR notation that starts at its first address/],
    ["an address space item that is not a range", { ...PRIVATE, virtualNetworkAddressPrefixes: ["10.60.0.0/16", "ten"] }, "virtualNetworkAddressPrefixes[1]", "ten", /must be an IPv4 range/],
    ["no address space", { ...PRIVATE, virtualNetworkAddressPrefixes: [] }, "virtualNetworkAddressPrefixes", [], /must name at least one address range/],
    ["an environment subnet below /27", { ...HOSTED, environmentSubnetPrefix: "10.60.0.0/28" }, "environmentSubnetPrefix", "10.60.0.0/28", /must be a \/27 or larger range: a workload-profiles Container Apps environment needs at least \/27/],
    ["an endpoint subnet below /28", { ...PRIVATE, privateEndpointSubnetPrefix: "10.60.2.0/29" }, "privateEndpointSubnetPrefix", "10.60.2.0/29", /must be a \/28 or larger range: Azure keeps 5 addresses of every subnet/],
    ["overlapping subnets", { ...HOSTED, privateEndpointSubnetPrefix: "10.60.1.0/24" }, "privateEndpointSubnetPrefix", "10.60.1.0/24", /overlaps environmentSubnetPrefix 10.60.0.0\/23/],
    ["overlapping address ranges", { ...PRIVATE, virtualNetworkAddressPrefixes: ["10.60.0.0/16", "10.60.128.0/17"] }, "virtualNetworkAddressPrefixes[1]", "10.60.128.0/17", /overlaps 10.60.0.0\/16: a virtual network's address ranges must not overlap/],
    ["a subnet outside the network", { ...PRIVATE, privateEndpointSubnetPrefix: "10.70.0.0/24" }, "privateEndpointSubnetPrefix", "10.70.0.0/24", /is not inside virtualNetworkAddressPrefixes \(10.60.0.0\/16\)/],
    ["a range Container Apps reserves", { ...HOSTED, virtualNetworkAddressPrefixes: ["172.30.0.0/16"], environmentSubnetPrefix: "172.30.0.0/23", privateEndpointSubnetPrefix: "172.30.2.0/24" }, "environmentSubnetPrefix", "172.30.0.0/23", /overlaps 172.30.0.0\/16, which Container Apps reserves/],
    ["zone redundancy on Basic", { location: "westeurope", eventHubsSku: "Basic", consumerGroups: ["$Default"], zoneRedundant: true }, "zoneRedundant", true, /Basic namespaces cannot be zone redundant: use eventHubsSku Standard or Premium/],
    ["capture on Basic", { location: "westeurope", eventHubsSku: "Basic", consumerGroups: ["$Default"], capture: true }, "capture", true, /capture is a Standard and Premium feature; Basic namespaces cannot capture/],
    ["capture behind private endpoints", { ...PRIVATE, capture: true }, "capture", true, /cannot be combined with privateNetworking: Event Hubs capture writes to storage as a trusted Azure service/],
    ["geo-DR on Basic", { location: "westeurope", eventHubsSku: "Basic", consumerGroups: ["$Default"], geoDrPartnerNamespaceId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.EventHub/namespaces/evhns-dr" }, "geoDrPartnerNamespaceId", "/subscriptions/s/resourceGroups/r/providers/Microsoft.EventHub/namespaces/evhns-dr", /geo-disaster recovery is a Standard and Premium feature; Basic namespaces cannot be paired/],
  ];

  it.each(cases)("%s", (_label, raw, key, value, message) => {
    const problem = problemsOf(raw).find((p) => p.key === key);
    expect(problem, JSON.stringify(problemsOf(raw))).toBeDefined();
    expect(problem!.value).toEqual(value);
    expect(problem!.message).toMatch(message);
  });

  it("reports every network problem of one config at once", () => {
    const keys = problemsOf({ ...HOSTED, workerRegistrySku: "Standard", environmentSubnetPrefix: "10.60.0.0/28", privateEndpointSubnetPrefix: "10.70.0.0/29", capture: true }).map((p) => p.key);
    expect(keys.sort()).toEqual(["capture", "environmentSubnetPrefix", "privateEndpointSubnetPrefix", "privateEndpointSubnetPrefix", "workerRegistrySku"]);
  });
});

describe("warnings", () => {
  it("a zone-redundant namespace over checkpoints in one zone, and diagnostics with nowhere to go", () => {
    expect(stackWarnings(validateStackConfig({ location: "westeurope", zoneRedundant: true }))).toEqual([expect.stringMatching(/storageSku Standard_LRS keeps the checkpoints in one zone/)]);
    expect(stackWarnings(validateStackConfig({ location: "westeurope", zoneRedundant: true, storageSku: "Standard_GZRS" }))).toEqual([]);
    expect(stackWarnings(validateStackConfig(PRIVATE))).toEqual([expect.stringMatching(/Set diagnosticsWorkspaceId/)]);
    expect(stackWarnings(validateStackConfig(HOSTED))).toEqual([]);
  });
});
