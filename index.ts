import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { CheckpointStorage } from "./infra/checkpointStorage";
import { loadStackConfig } from "./infra/config";
import { EventHubsNamespace } from "./infra/eventHubsNamespace";
import { HubAccessRules } from "./infra/hubAccessRules";
import { globalNames, resourceGroupName as resourceGroupNameFor } from "./infra/naming";
import { ResourceGroup } from "./infra/resourceGroup";
import { stackTags } from "./infra/tags";
import { WorkerEventHub } from "./infra/workerEventHub";
import { WorkerRoleAssignments } from "./infra/workerRoleAssignments";

// Throws, listing every problem, before any resource is declared.
const config = loadStackConfig();
const project = pulumi.getProject();
const stack = pulumi.getStack();
const tags = stackTags(config.tags, project, stack);
const { subscriptionId } = authorization.getClientConfigOutput();
const groupName = resourceGroupNameFor(config.namePrefix, stack);
const names = globalNames(subscriptionId, groupName, config.namePrefix);

const group = new ResourceGroup("resource-group", { resourceGroupName: groupName, location: config.location, tags });

const namespace = new EventHubsNamespace("event-hubs", {
  resourceGroupName: group.name,
  location: group.location,
  namespaceName: names.namespaceName,
  sku: config.eventHubsSku,
  capacity: config.eventHubsCapacity,
  autoInflate: config.autoInflate,
  autoInflateMaxThroughputUnits: config.autoInflateMaxThroughputUnits,
  publicNetworkAccess: config.publicNetworkAccess,
  disableLocalAuth: config.disableLocalAuth,
  tags,
});

const hub = new WorkerEventHub("hub", {
  resourceGroupName: group.name,
  namespaceName: namespace.name,
  eventHubName: config.eventHubName,
  partitionCount: config.partitionCount,
  retentionHours: config.retentionHours,
  consumerGroups: config.consumerGroups,
  owner: `pulumi ${project}/${stack}`,
});

const checkpoints = new CheckpointStorage("checkpoints", {
  resourceGroupName: group.name,
  location: group.location,
  accountName: names.storageAccountName,
  sku: config.storageSku,
  consumerGroups: config.consumerGroups,
  publicNetworkAccess: config.publicNetworkAccess,
  disableSharedKey: config.disableLocalAuth,
  tags,
});

// SAS mode only: with local auth disabled there are no keys to hand out.
const access = config.disableLocalAuth
  ? undefined
  : new HubAccessRules("hub-access", { resourceGroupName: group.name, namespaceName: namespace.name, eventHubName: hub.name });

if (config.principalId !== undefined) {
  new WorkerRoleAssignments("worker-roles", {
    subscriptionId,
    principalId: config.principalId,
    eventHubId: hub.id,
    containers: [...checkpoints.checkpointContainers, checkpoints.deadLetterContainer],
  });
}

export const resourceGroupName = group.name;
export const namespaceName = namespace.name;
export const fullyQualifiedNamespace = namespace.fullyQualifiedNamespace;
export const eventHubName = hub.name;
export const partitionCount = hub.partitionCount;
export const consumerGroupName = hub.workerConsumerGroupName;
export const storageAccountName = checkpoints.accountName;
export const blobEndpoint = checkpoints.blobEndpoint;
export const checkpointContainerName = checkpoints.checkpointContainers[0]?.name;
export const deadLetterContainerName = checkpoints.deadLetterContainer.name;
export const connectionString = access?.listenConnectionString;
export const producerConnectionString = access?.sendConnectionString;
export const storageConnectionString = checkpoints.connectionString;
