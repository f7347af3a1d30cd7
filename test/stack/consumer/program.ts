// A second Pulumi program that uses the stack as a component, as another team's program would: two pipelines in
// one program, each with its own prefix and its own resilience options. Imports the package entry (component/).
import { EventHubsAiWorkers } from "../../../component/index";

const audited = new EventHubsAiWorkers("audited", {
  location: "northeurope",
  namePrefix: "audit",
  eventHubsSku: "Premium",
  eventHubsCapacity: 1,
  partitionCount: 8,
  zoneRedundant: true,
  storageSku: "Standard_ZRS",
  namespaceLock: true,
  capture: true,
  disableLocalAuth: true,
  principalId: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  geoDrPartnerNamespaceId: "/subscriptions/s/resourceGroups/rg-dr/providers/Microsoft.EventHub/namespaces/evhns-audit-dr",
  tags: ["owner=platform"],
});
const scratch = new EventHubsAiWorkers("scratch", { location: "northeurope", namePrefix: "scratch", eventHubsSku: "Basic", consumerGroups: ["$Default"] });

export const auditedNamespace = audited.namespaceName;
export const auditedConnectionString = audited.connectionString;
export const scratchNamespace = scratch.namespaceName;
export const scratchConnectionString = scratch.connectionString;
