import { EVENT_HUBS_AI_WORKERS_TYPE, EventHubsAiWorkers } from "./infra/eventHubsAiWorkers";
import { stackArgsFromConfig } from "./infra/config";
import { aliasToPreComponentUrns } from "./infra/rootStackAliases";

// The stack is one component; this program feeds it the stack's config and exports what it made. The component
// throws, listing every problem, before anything is declared.
const COMPONENT_NAME = "aiworkers";
const workers = new EventHubsAiWorkers(COMPONENT_NAME, stackArgsFromConfig(), {
  transforms: [aliasToPreComponentUrns(COMPONENT_NAME, EVENT_HUBS_AI_WORKERS_TYPE)],
});

export const resourceGroupName = workers.resourceGroupName;
export const namespaceName = workers.namespaceName;
export const fullyQualifiedNamespace = workers.fullyQualifiedNamespace;
export const eventHubName = workers.eventHubName;
export const partitionCount = workers.partitionCount;
export const consumerGroupName = workers.consumerGroupName;
export const storageAccountName = workers.storageAccountName;
export const blobEndpoint = workers.blobEndpoint;
export const checkpointContainerName = workers.checkpointContainerName;
export const deadLetterContainerName = workers.deadLetterContainerName;
export const connectionString = workers.connectionString;
export const producerConnectionString = workers.producerConnectionString;
export const storageConnectionString = workers.storageConnectionString;
export const workerRegistryName = workers.workerRegistryName;
export const workerRegistryLoginServer = workers.workerRegistryLoginServer;
export const workerAppName = workers.workerAppName;
export const workerIdentityClientId = workers.workerIdentityClientId;
/** For granting the worker Cognitive Services OpenAI User on accounts the stack does not create (model.existing). */
export const workerIdentityPrincipalId = workers.workerIdentityPrincipalId;
export const openAiEndpoint = workers.openAiEndpoint;
export const openAiDeploymentNames = workers.openAiDeploymentNames;
