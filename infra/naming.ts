import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * Azure names. Event Hubs namespaces and storage accounts share one global DNS space with every other
 * Azure customer, so their names carry a suffix hashed from the subscription and the resource group:
 * the same stack in the same subscription always gets the same names (repeated `up`s never churn),
 * while two people deploying this project's `dev` stack in their own subscriptions do not collide.
 * This is the idea behind Bicep's `uniqueString(resourceGroup().id)`, without an extra provider.
 */

/** Lowercase hex characters of the global-name suffix. */
export const UNIQUE_SUFFIX_LENGTH = 10;

/** Deterministic, DNS-safe suffix for globally unique names. */
export function uniqueSuffix(subscriptionId: string, resourceGroupName: string): string {
  return createHash("sha256")
    .update(`${subscriptionId.toLowerCase()}/${resourceGroupName.toLowerCase()}`)
    .digest("hex")
    .slice(0, UNIQUE_SUFFIX_LENGTH);
}

/** `rg-<prefix>-<stack>`: unique per subscription, which is all a resource group needs. */
export function resourceGroupName(namePrefix: string, stack: string): string {
  return `rg-${namePrefix}-${stack}`;
}

/** `evhns-<prefix>-<suffix>`: 6-50 characters, starts with a letter, letters/digits/hyphens. */
export function eventHubsNamespaceName(namePrefix: string, suffix: string): string {
  return `evhns-${namePrefix}-${suffix}`;
}

/** `st<prefix><suffix>`: 3-24 lowercase letters and digits. */
export function storageAccountName(namePrefix: string, suffix: string): string {
  return `st${namePrefix}${suffix}`;
}

/** `cr<prefix><suffix>`: 5-50 letters and digits (registry names allow nothing else), globally unique. */
export function containerRegistryName(namePrefix: string, suffix: string): string {
  return `cr${namePrefix}${suffix}`;
}

/**
 * `oai-<prefix>-<suffix>`: the Azure OpenAI account, whose name is also its custom subdomain
 * (`<name>.openai.azure.com`, which Entra ID sign-in needs), so globally unique: 2-64 letters, digits and hyphens.
 */
export function openAiAccountName(namePrefix: string, suffix: string): string {
  return `oai-${namePrefix}-${suffix}`;
}

/**
 * Names inside the stack's own resource group (unique there already, so no hash): `id-<prefix>-workers`,
 * `log-<prefix>-workers`, `appi-<prefix>-workers`, `cae-<prefix>-workers` and `ca-<prefix>-worker` (container app names allow
 * 2-32 lowercase letters, digits and hyphens; the longest prefix gives 20).
 */
export function workerHostingNames(namePrefix: string) {
  return {
    identityName: `id-${namePrefix}-workers`,
    workspaceName: `log-${namePrefix}-workers`,
    insightsName: `appi-${namePrefix}-workers`,
    environmentName: `cae-${namePrefix}-workers`,
    containerAppName: `ca-${namePrefix}-worker`,
  };
}

/**
 * Names of the private network's parts, inside the stack's resource group: `vnet-<prefix>-workers` and one
 * `pe-<prefix>-<target>` per private endpoint (target: namespace, blob, registry, openAi).
 */
export function privateNetworkNames(namePrefix: string) {
  return {
    networkName: `vnet-${namePrefix}-workers`,
    endpointName: (target: string) => `pe-${namePrefix}-${target.toLowerCase()}`,
  };
}

/** The globally unique names of a stack (namespace, storage, registry, OpenAI account), once the subscription is known. */
export function globalNames(
  subscriptionId: pulumi.Input<string>,
  resourceGroup: string,
  namePrefix: string,
): {
  namespaceName: pulumi.Output<string>;
  storageAccountName: pulumi.Output<string>;
  containerRegistryName: pulumi.Output<string>;
  openAiAccountName: pulumi.Output<string>;
} {
  const suffix = pulumi.output(subscriptionId).apply((id) => uniqueSuffix(id, resourceGroup));
  return {
    namespaceName: suffix.apply((s) => eventHubsNamespaceName(namePrefix, s)),
    storageAccountName: suffix.apply((s) => storageAccountName(namePrefix, s)),
    containerRegistryName: suffix.apply((s) => containerRegistryName(namePrefix, s)),
    openAiAccountName: suffix.apply((s) => openAiAccountName(namePrefix, s)),
  };
}
