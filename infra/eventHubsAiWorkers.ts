import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { CheckpointStorage } from "./checkpointStorage";
import { validateStackConfig, type StackConfig } from "./config";
import { ContainerAppsEnvironment, CONSUMPTION_PROFILE } from "./containerAppsEnvironment";
import { DiagnosticSettings, type DiagnosedResource } from "./diagnostics";
import type { EventHubsAiWorkersArgs } from "./eventHubsAiWorkersArgs";
import { EventHubsNamespace } from "./eventHubsNamespace";
import { HubAccessRules } from "./hubAccessRules";
import { modelWorkerSettings } from "./modelWorkerSettings";
import { globalNames, privateNetworkNames, resourceGroupName as resourceGroupNameFor, workerHostingNames } from "./naming";
import { OpenAiAccount } from "./openAiAccount";
import { PrivateNetwork, type PrivateLinkTarget } from "./privateNetwork";
import { ResourceGroup } from "./resourceGroup";
import { assignRole, BUILT_IN_ROLES } from "./roles";
import { stackWarnings } from "./stackWarnings";
import { stackTags } from "./tags";
import { WorkerApp } from "./workerApp";
import { WorkerEventHub } from "./workerEventHub";
import { WorkerIdentity } from "./workerIdentity";
import { WorkerInsights } from "./workerInsights";
import { WorkerRegistry } from "./workerRegistry";
import { WorkerRoleAssignments } from "./workerRoleAssignments";
import { workerScale } from "./workerScale";

/** The component's type token; `aiworkers` is also the plugin package's name (component/package.json). */
export const EVENT_HUBS_AI_WORKERS_TYPE = "aiworkers:index:EventHubsAiWorkers";

/** Its arguments, validated: the region falls back to azure-native:location, as every azure-native resource's does. */
function validatedArgs(args: EventHubsAiWorkersArgs): StackConfig {
  return validateStackConfig({ ...args, location: args.location ?? new pulumi.Config("azure-native").get("location") });
}

/**
 * Azure Event Hubs for a fleet of AI workers, as one component: the namespace, hub and consumer groups, checkpoint
 * storage, hub-scoped access, and optionally the hosted worker (Container Apps + KEDA), an Azure OpenAI account,
 * a private network with private endpoints, diagnostic settings and the namespace's resilience options. Its
 * arguments are checked together before anything is declared; a bad one throws StackConfigError listing every
 * problem.
 */
export class EventHubsAiWorkers extends pulumi.ComponentResource {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly namespaceName: pulumi.Output<string>;
  /** `<namespace>.servicebus.windows.net`. */
  readonly fullyQualifiedNamespace: pulumi.Output<string>;
  readonly eventHubName: pulumi.Output<string>;
  readonly partitionCount: pulumi.Output<number | undefined>;
  /** The workers' consumer group. */
  readonly consumerGroupName: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly checkpointContainerName: pulumi.Output<string>;
  readonly deadLetterContainerName: pulumi.Output<string>;
  /** Hub-scoped Listen connection string (secret); absent in Entra ID mode. */
  readonly connectionString: pulumi.Output<string> | undefined;
  /** Hub-scoped Send connection string (secret); absent in Entra ID mode. */
  readonly producerConnectionString: pulumi.Output<string> | undefined;
  /** Storage account-key connection string (secret); absent in Entra ID mode. */
  readonly storageConnectionString: pulumi.Output<string> | undefined;
  readonly workerRegistryName: pulumi.Output<string> | undefined;
  readonly workerRegistryLoginServer: pulumi.Output<string> | undefined;
  readonly workerAppName: pulumi.Output<string> | undefined;
  readonly workerIdentityClientId: pulumi.Output<string> | undefined;
  /** For granting the worker Cognitive Services OpenAI User on accounts the stack does not create (model.existing). */
  readonly workerIdentityPrincipalId: pulumi.Output<string> | undefined;
  readonly openAiEndpoint: pulumi.Output<string> | undefined;
  readonly openAiDeploymentNames: pulumi.Output<string[]> | undefined;
  /** The virtual network the private endpoints are in; absent without privateNetworking. */
  readonly virtualNetworkId: pulumi.Output<string> | undefined;

  constructor(name: string, args: EventHubsAiWorkersArgs, opts?: pulumi.ComponentResourceOptions) {
    // Throws, listing every problem, before anything (this component included) is declared.
    const config = validatedArgs(args);
    super(EVENT_HUBS_AI_WORKERS_TYPE, name, {}, opts);
    const parent = { parent: this };
    const part = (suffix: string) => `${name}-${suffix}`;
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const tags = stackTags(config.tags, project, stack);
    const { subscriptionId } = authorization.getClientConfigOutput(parent);
    const groupName = resourceGroupNameFor(config.namePrefix, stack);
    const names = globalNames(subscriptionId, groupName, config.namePrefix);
    for (const warning of stackWarnings(config)) pulumi.log.warn(warning, this);

    const group = new ResourceGroup(part("resource-group"), { resourceGroupName: groupName, location: config.location, tags }, parent);
    const location = group.location;

    const namespace = new EventHubsNamespace(
      part("event-hubs"),
      {
        resourceGroupName: group.name,
        location,
        namespaceName: names.namespaceName,
        sku: config.eventHubsSku,
        capacity: config.eventHubsCapacity,
        autoInflate: config.autoInflate,
        autoInflateMaxThroughputUnits: config.autoInflateMaxThroughputUnits,
        publicNetworkAccess: config.publicNetworkAccess,
        disableLocalAuth: config.disableLocalAuth,
        zoneRedundant: config.zoneRedundant,
        managedIdentity: config.capture,
        lock: config.namespaceLock,
        geoDrPartnerNamespaceId: config.geoDrPartnerNamespaceId,
        tags,
      },
      parent,
    );

    const checkpoints = new CheckpointStorage(
      part("checkpoints"),
      {
        resourceGroupName: group.name,
        location,
        accountName: names.storageAccountName,
        sku: config.storageSku,
        consumerGroups: config.consumerGroups,
        publicNetworkAccess: config.publicNetworkAccess,
        disableSharedKey: config.disableLocalAuth,
        captureContainer: config.capture,
        tags,
      },
      parent,
    );

    // Capture writes as the namespace's own identity, granted blob writes on the capture container only.
    const captureGrant =
      namespace.principalId && checkpoints.captureContainer
        ? assignRole(
            part("capture-writer"),
            { subscriptionId, scope: checkpoints.captureContainer.id, roleGuid: BUILT_IN_ROLES.storageBlobDataContributor, principalId: namespace.principalId },
            parent,
          )
        : undefined;

    const hub = new WorkerEventHub(
      part("hub"),
      {
        resourceGroupName: group.name,
        namespaceName: namespace.name,
        eventHubName: config.eventHubName,
        partitionCount: config.partitionCount,
        retentionHours: config.retentionHours,
        consumerGroups: config.consumerGroups,
        owner: `pulumi ${project}/${stack}`,
        capture:
          captureGrant && checkpoints.captureContainer
            ? { storageAccountId: checkpoints.id, containerName: checkpoints.captureContainer.name, dependsOn: [captureGrant] }
            : undefined,
      },
      parent,
    );

    // SAS mode only: with local auth disabled there are no keys to hand out.
    const access = config.disableLocalAuth
      ? undefined
      : new HubAccessRules(part("hub-access"), { resourceGroupName: group.name, namespaceName: namespace.name, eventHubName: hub.name }, parent);

    // The model's deployments the stack creates, in one Azure OpenAI account (a model may use existing ones only).
    const openAi =
      config.model !== undefined && config.model.deployments.length > 0
        ? new OpenAiAccount(
            part("openai"),
            {
              resourceGroupName: group.name,
              location,
              accountName: names.openAiAccountName,
              // Validation allows only these two with a model.
              publicNetworkAccess: config.publicNetworkAccess === "Disabled" ? "Disabled" : "Enabled",
              deployments: config.model.deployments,
              tags,
            },
            parent,
          )
        : undefined;

    if (config.principalId !== undefined) {
      new WorkerRoleAssignments(
        part("worker-roles"),
        {
          subscriptionId,
          principalId: config.principalId,
          eventHubId: hub.id,
          containers: [...checkpoints.checkpointContainers, checkpoints.deadLetterContainer],
          openAiAccountId: openAi?.id,
        },
        parent,
      );
    }

    // Hosting on Container Apps. The registry may come first on its own (workerRegistry), so the first image
    // can be pushed before deployWorker creates the app that runs it.
    const registry =
      config.deployWorker || config.workerRegistry
        ? new WorkerRegistry(
            part("worker-registry"),
            {
              resourceGroupName: group.name,
              location,
              registryName: names.containerRegistryName,
              sku: config.workerRegistrySku,
              publicNetworkAccess: config.privateNetworking ? "Disabled" : "Enabled",
              tags,
            },
            parent,
          )
        : undefined;

    const privateTargets: { target: PrivateLinkTarget; id: pulumi.Input<string> }[] = [
      { target: "namespace", id: namespace.id },
      { target: "blob", id: checkpoints.id },
      ...(registry ? [{ target: "registry" as const, id: registry.id }] : []),
      ...(openAi ? [{ target: "openAi" as const, id: openAi.id }] : []),
    ];
    const network = config.privateNetworking
      ? new PrivateNetwork(
          part("network"),
          {
            resourceGroupName: group.name,
            location,
            existingNetworkId: config.virtualNetworkId,
            networkName: privateNetworkNames(config.namePrefix).networkName,
            addressPrefixes: config.virtualNetworkAddressPrefixes,
            environmentSubnetPrefix: config.environmentSubnetPrefix,
            privateEndpointSubnetPrefix: config.privateEndpointSubnetPrefix,
            hostsEnvironment: config.deployWorker,
            targets: privateTargets.map((t) => t.target),
            tags,
          },
          parent,
        )
      : undefined;
    // The workers need every endpoint (and its DNS record) before their first revision starts.
    const endpoints = network
      ? privateTargets.map(({ target, id }) => network.endpoint(target, id, privateNetworkNames(config.namePrefix).endpointName(target)))
      : [];

    let worker: { app: WorkerApp; identity: WorkerIdentity; environment: ContainerAppsEnvironment } | undefined;
    if (config.deployWorker && registry && config.workerImage !== undefined) {
      const hostingNames = workerHostingNames(config.namePrefix);
      const scale = workerScale({
        partitionCount: config.partitionCount,
        minReplicas: config.workerMinReplicas,
        maxReplicas: config.workerMaxReplicas,
        model: config.model,
      });
      for (const warning of scale.warnings) pulumi.log.warn(warning, this);
      const workerContainers = [checkpoints.checkpointContainers[0]!, checkpoints.deadLetterContainer];
      const identity = new WorkerIdentity(
        part("worker-identity"),
        {
          resourceGroupName: group.name,
          location,
          identityName: hostingNames.identityName,
          subscriptionId,
          eventHubId: hub.id,
          containers: workerContainers,
          registryId: registry.id,
          openAiAccountId: openAi?.id,
          tags,
        },
        parent,
      );
      const environment = new ContainerAppsEnvironment(
        part("worker-environment"),
        {
          resourceGroupName: group.name,
          location,
          workspaceName: hostingNames.workspaceName,
          environmentName: hostingNames.environmentName,
          infrastructureSubnetId: network?.environmentSubnetId,
          tags,
        },
        parent,
      );
      const insights = new WorkerInsights(
        part("worker-insights"),
        { resourceGroupName: group.name, location, componentName: hostingNames.insightsName, workspaceId: environment.workspaceId, tags },
        parent,
      );
      const app = new WorkerApp(
        part("worker"),
        {
          resourceGroupName: group.name,
          location,
          containerAppName: hostingNames.containerAppName,
          environmentId: environment.id,
          workloadProfileName: CONSUMPTION_PROFILE,
          image: pulumi.interpolate`${registry.loginServer}/${config.workerImage}`,
          registryServer: registry.loginServer,
          identity,
          grants: [...identity.grants, ...endpoints],
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
        },
        parent,
      );
      worker = { app, identity, environment };
    }

    // Diagnostics go to the workspace the caller names, else to the hosted worker's; without either, nowhere.
    const workspaceId = config.diagnosticsWorkspaceId ?? worker?.environment.workspaceId;
    if (config.diagnostics && workspaceId !== undefined) {
      const diagnosed: DiagnosedResource[] = [
        { name: part("namespace-diagnostics"), resourceUri: namespace.id, logs: true },
        { name: part("blob-diagnostics"), resourceUri: checkpoints.blobServiceId, logs: true },
        ...(registry ? [{ name: part("registry-diagnostics"), resourceUri: registry.id, logs: true }] : []),
        ...(openAi ? [{ name: part("openai-diagnostics"), resourceUri: openAi.id, logs: true }] : []),
        ...(worker ? [{ name: part("environment-diagnostics"), resourceUri: worker.environment.id, logs: false }] : []),
      ];
      new DiagnosticSettings(part("diagnostics"), { workspaceId, resources: diagnosed }, parent);
    }

    this.resourceGroupName = group.name;
    this.namespaceName = namespace.name;
    this.fullyQualifiedNamespace = namespace.fullyQualifiedNamespace;
    this.eventHubName = hub.name;
    this.partitionCount = hub.partitionCount;
    this.consumerGroupName = hub.workerConsumerGroupName;
    this.storageAccountName = checkpoints.accountName;
    this.blobEndpoint = checkpoints.blobEndpoint;
    this.checkpointContainerName = checkpoints.checkpointContainers[0]!.name;
    this.deadLetterContainerName = checkpoints.deadLetterContainer.name;
    this.connectionString = access?.listenConnectionString;
    this.producerConnectionString = access?.sendConnectionString;
    this.storageConnectionString = checkpoints.connectionString;
    this.workerRegistryName = registry?.name;
    this.workerRegistryLoginServer = registry?.loginServer;
    this.workerAppName = worker?.app.name;
    this.workerIdentityClientId = worker?.identity.clientId;
    this.workerIdentityPrincipalId = worker?.identity.principalId;
    this.openAiEndpoint = openAi?.endpoint;
    this.openAiDeploymentNames = openAi && pulumi.all(openAi.deploymentNames);
    this.virtualNetworkId = network?.networkId;
    this.registerOutputs({
      resourceGroupName: this.resourceGroupName,
      namespaceName: this.namespaceName,
      fullyQualifiedNamespace: this.fullyQualifiedNamespace,
      eventHubName: this.eventHubName,
      partitionCount: this.partitionCount,
      consumerGroupName: this.consumerGroupName,
      storageAccountName: this.storageAccountName,
      blobEndpoint: this.blobEndpoint,
      checkpointContainerName: this.checkpointContainerName,
      deadLetterContainerName: this.deadLetterContainerName,
      connectionString: this.connectionString,
      producerConnectionString: this.producerConnectionString,
      storageConnectionString: this.storageConnectionString,
      workerRegistryName: this.workerRegistryName,
      workerRegistryLoginServer: this.workerRegistryLoginServer,
      workerAppName: this.workerAppName,
      workerIdentityClientId: this.workerIdentityClientId,
      workerIdentityPrincipalId: this.workerIdentityPrincipalId,
      openAiEndpoint: this.openAiEndpoint,
      openAiDeploymentNames: this.openAiDeploymentNames,
      virtualNetworkId: this.virtualNetworkId,
    });
  }
}
