/*
 * The component's arguments: the stack's settings (Pulumi.yaml) under the same names, as plain values. Every one
 * is optional, with the stack's default, and all are checked together by validateStackConfig before anything is
 * declared. They are plain (not Inputs) because the rules compare them with each other; Pulumi's schema inference
 * reads this file, so each comment becomes the argument's description in every language's SDK.
 */

/** A model deployment the stack creates in its Azure OpenAI account. */
export interface ModelDeploymentArgs {
  /** The deployment's name in Azure and in the worker's results. */
  name: string;
  /** Base model, e.g. gpt-4o-mini. */
  model: string;
  version: string;
  /** Standard, GlobalStandard, DataZoneStandard, ProvisionedManaged, GlobalProvisionedManaged or DataZoneProvisionedManaged. */
  sku: string;
  /** Rate-limit units (standard SKUs) or PTUs (provisioned SKUs). */
  capacity: number;
  /** Lower is tried first (default 0). */
  priority?: number;
  /** Share among deployments of one priority (default 1). */
  weight?: number;
}

/** An Azure OpenAI deployment the stack does not create, called with Entra ID. */
export interface ExistingModelDeploymentArgs {
  name: string;
  /** The account's endpoint, https://<name>.openai.azure.com/. */
  endpoint: string;
  /** Its name in its account. */
  deployment: string;
  apiVersion?: string;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  priority?: number;
  weight?: number;
}

/** The remote model the hosted worker calls instead of text-insights (docs/deploy-model.md). */
export interface ModelArgs {
  /** chat (the default), structured or embeddings. */
  task?: string;
  systemPrompt?: string;
  /** The JSON Schema every structured answer must match. */
  responseSchema?: { [key: string]: any };
  deployments?: ModelDeploymentArgs[];
  existing?: ExistingModelDeploymentArgs[];
}

/** Everything the stack can be told; see Pulumi.yaml for each setting's rules and default. */
export interface EventHubsAiWorkersArgs {
  /** Azure region, e.g. westeurope; default: the azure-native:location config. */
  location?: string;
  /** 2-10 lowercase letters or digits starting with a letter; starts every name (default aiwork). */
  namePrefix?: string;
  /** Basic, Standard or Premium (default Standard). */
  eventHubsSku?: string;
  /** Throughput units (Basic, Standard) or processing units (Premium). */
  eventHubsCapacity?: number;
  autoInflate?: boolean;
  autoInflateMaxThroughputUnits?: number;
  /** Enabled, Disabled or SecuredByPerimeter; Disabled with privateNetworking. */
  publicNetworkAccess?: string;
  /** Entra ID only: no SAS keys, no connection strings. */
  disableLocalAuth?: boolean;
  eventHubName?: string;
  partitionCount?: number;
  retentionHours?: number;
  /** The first is the workers' group. */
  consumerGroups?: string[];
  /** Standard_LRS, Standard_ZRS, Standard_GRS, Standard_RAGRS, Standard_GZRS or Standard_RAGZRS. */
  storageSku?: string;
  /** Object id of the workers' identity, granted the data roles. */
  principalId?: string;
  /** Extra tags as name=value. */
  tags?: string[];
  /** Host the worker on Container Apps, scaled by KEDA. */
  deployWorker?: boolean;
  /** Create the registry even without deployWorker. */
  workerRegistry?: boolean;
  /** <repository>:<tag> in the stack's registry; required with deployWorker. */
  workerImage?: string;
  workerMinReplicas?: number;
  unprocessedEventThreshold?: number;
  /** vCPUs per replica, 0.25-4 in steps of 0.25. */
  workerCpu?: number;
  workerMaxReplicas?: number;
  model?: ModelArgs;
  /** A virtual network with private endpoints and privatelink DNS for everything; public access off. */
  privateNetworking?: boolean;
  /** An existing virtual network to add the subnets to; empty creates one. */
  virtualNetworkId?: string;
  virtualNetworkAddressPrefixes?: string[];
  /** The Container Apps environment's subnet, /27 or larger. */
  environmentSubnetPrefix?: string;
  /** The private endpoints' subnet, /28 or larger. */
  privateEndpointSubnetPrefix?: string;
  /** Basic, Standard or Premium; Premium with privateNetworking. */
  workerRegistrySku?: string;
  /** Diagnostic settings (allLogs, AllMetrics) where a workspace exists (default true). */
  diagnostics?: boolean;
  /** A Log Analytics workspace the stack does not own, for the diagnostic settings. */
  diagnosticsWorkspaceId?: string;
  /** Zone-redundant namespace (Standard, Premium); fixed at creation. */
  zoneRedundant?: boolean;
  /** A CanNotDelete lock on the namespace. */
  namespaceLock?: boolean;
  /** Capture the hub to storage as Avro (Standard, Premium; not with privateNetworking). */
  capture?: boolean;
  /** Pair the namespace with this one (another region) for geo-disaster recovery. */
  geoDrPartnerNamespaceId?: string;
}
