import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { CheckpointStorage } from "./infra/checkpointStorage";
import { loadStackConfig } from "./infra/config";
import { ContainerAppsEnvironment, CONSUMPTION_PROFILE } from "./infra/containerAppsEnvironment";
import { EventHubsNamespace } from "./infra/eventHubsNamespace";
import { HubAccessRules } from "./infra/hubAccessRules";
import { modelWorkerSettings } from "./infra/modelWorkerSettings";
import { globalNames, resourceGroupName as resourceGroupNameFor, workerHostingNames } from "./infra/naming";
import { OpenAiAccount } from "./infra/openAiAccount";
import { ResourceGroup } from "./infra/resourceGroup";
import { stackTags } from "./infra/tags";
import { WorkerApp } from "./infra/workerApp";
import { WorkerInsights } from "./infra/workerInsights";
import { WorkerEventHub } from "./infra/workerEventHub";
import { WorkerIdentity } from "./infra/workerIdentity";
import { WorkerRegistry } from "./infra/workerRegistry";
import { WorkerRoleAssignments } from "./infra/workerRoleAssignments";
import { workerScale } from "./infra/workerScale";

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

// The model's deployments the stack creates, in one Azure OpenAI account (a model may use existing ones only).
const openAi =
  config.model !== undefined && config.model.deployments.length > 0
    ? new OpenAiAccount("openai", {
        resourceGroupName: group.name,
        location: group.location,
        accountName: names.openAiAccountName,
        // Validation allows only these two with a model.
        publicNetworkAccess: config.publicNetworkAccess === "Disabled" ? "Disabled" : "Enabled",
        deployments: config.model.deployments,
        tags,
      })
    : undefined;

if (config.principalId !== undefined) {
  new WorkerRoleAssignments("worker-roles", {
    subscriptionId,
    principalId: config.principalId,
    eventHubId: hub.id,
    containers: [...checkpoints.checkpointContainers, checkpoints.deadLetterContainer],
    openAiAccountId: openAi?.id,
  });
}

// Hosting on Container Apps. The registry may come first on its own (workerRegistry), so the first image
// can be pushed before deployWorker creates the app that runs it.
const registry =
  config.deployWorker || config.workerRegistry
    ? new WorkerRegistry("worker-registry", {
        resourceGroupName: group.name,
        location: group.location,
        registryName: names.containerRegistryName,
        tags,
      })
    : undefined;

let worker: { app: WorkerApp; identity: WorkerIdentity } | undefined;
if (config.deployWorker && registry && config.workerImage !== undefined) {
  const hostingNames = workerHostingNames(config.namePrefix);
  const scale = workerScale({
    partitionCount: config.partitionCount,
    minReplicas: config.workerMinReplicas,
    maxReplicas: config.workerMaxReplicas,
    model: config.model,
  });
  for (const warning of scale.warnings) pulumi.log.warn(warning);
  const workerContainers = [checkpoints.checkpointContainers[0]!, checkpoints.deadLetterContainer];
  const identity = new WorkerIdentity("worker-identity", {
    resourceGroupName: group.name,
    location: group.location,
    identityName: hostingNames.identityName,
    subscriptionId,
    eventHubId: hub.id,
    containers: workerContainers,
    registryId: registry.id,
    openAiAccountId: openAi?.id,
    tags,
  });
  const environment = new ContainerAppsEnvironment("worker-environment", {
    resourceGroupName: group.name,
    location: group.location,
    workspaceName: hostingNames.workspaceName,
    environmentName: hostingNames.environmentName,
    tags,
  });
  const insights = new WorkerInsights("worker-insights", {
    resourceGroupName: group.name,
    location: group.location,
    componentName: hostingNames.insightsName,
    workspaceId: environment.workspaceId,
    tags,
  });
  const app = new WorkerApp("worker", {
    resourceGroupName: group.name,
    location: group.location,
    containerAppName: hostingNames.containerAppName,
    environmentId: environment.id,
    workloadProfileName: CONSUMPTION_PROFILE,
    image: pulumi.interpolate`${registry.loginServer}/${config.workerImage}`,
    registryServer: registry.loginServer,
    identity,
    grants: identity.grants,
    eventHub: {
      namespaceName: namespace.name,
      fullyQualifiedNamespace: namespace.fullyQualifiedNamespace,
      eventHubName: hub.name,
      consumerGroup: hub.workerConsumerGroupName,
    },
    storage: {
      accountName: checkpoints.accountName,
      blobEndpoint: checkpoints.blobEndpoint,
      checkpointContainer: workerContainers[0]!.name,
      deadLetterContainer: checkpoints.deadLetterContainer.name,
    },
    minReplicas: config.workerMinReplicas,
    maxReplicas: scale.maxReplicas,
    unprocessedEventThreshold: config.unprocessedEventThreshold,
    applicationInsightsConnectionString: insights.connectionString,
    cpu: config.workerCpu,
    model: config.model && {
      settings: modelWorkerSettings(config.model, openAi?.endpoint),
      deployments: openAi?.deployments ?? [],
    },
    tags,
  });
  worker = { app, identity };
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
export const workerRegistryName = registry?.name;
export const workerRegistryLoginServer = registry?.loginServer;
export const workerAppName = worker?.app.name;
export const workerIdentityClientId = worker?.identity.clientId;
/** For granting the worker Cognitive Services OpenAI User on accounts the stack does not create (model.existing). */
export const workerIdentityPrincipalId = worker?.identity.principalId;
export const openAiEndpoint = openAi?.endpoint;
export const openAiDeploymentNames = openAi && pulumi.all(openAi.deploymentNames);
