import { readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import { parse } from "yaml";
import type { ConfigProblem } from "../../infra/config";

/**
 * Runs the real stack program (index.ts) on Pulumi's mock runtime: Azure Resource Manager is the one
 * thing that cannot exist on this machine. The mocks answer the way ARM does (names, ids, endpoints),
 * record every resource and invoke, and fail on any invoke the program is not expected to make.
 */

export const PROJECT = "eventhubs-ai-workers";
export const STACK = "dev";
export const SUBSCRIPTION_ID = "11111111-2222-4333-8444-555555555555";
export const TENANT_ID = "99999999-8888-4777-8666-555555555555";
export const FAKE_SAS_KEY = "c2FzLWtleS1mb3ItdGVzdHM=";
export const FAKE_STORAGE_KEY = "c3RvcmFnZS1rZXktZm9yLXRlc3Rz";
export const FAKE_WORKSPACE_KEY = "d29ya3NwYWNlLWtleS1mb3ItdGVzdHM=";
/** What ARM assigns a user-assigned identity (fixed here so tests can derive role assignment names). */
export const IDENTITY_PRINCIPAL_ID = "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e";
export const IDENTITY_CLIENT_ID = "5f5f5f5f-6a6a-4b7b-8c8c-9d9d9d9d9d9d";
/** What ARM assigns the namespace's system identity (capture). */
export const NAMESPACE_PRINCIPAL_ID = "3c3c3c3c-4d4d-4e5e-8f6f-7a7a7a7a7a7a";
export const WORKSPACE_CUSTOMER_ID = "7e7e7e7e-8f8f-4a9a-9b0b-1c1c1c1c1c1c";
export const APPLICATION_INSIGHTS_CONNECTION_STRING =
  "InstrumentationKey=2d2d2d2d-3e3e-4f4f-8a5a-6b6b6b6b6b6b;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/";

/** Deserialised resource inputs as the runtime hands them to mocks; `any` because they are untyped by nature. */
type PropertyBag = Record<string, any>;

/** What we read from the mocks: inputs as the program sent them. */
export interface RecordedResource {
  type: string;
  name: string;
  custom: boolean;
  inputs: PropertyBag;
  id: string | undefined;
  /** URNs the resource depends on (dependsOn and the resources behind its input outputs). */
  dependencies: string[];
  urn: string;
}

export interface RecordedCall {
  token: string;
  inputs: PropertyBag;
}

export interface ProgramRun {
  resources: RecordedResource[];
  calls: RecordedCall[];
  /** URN of every registered resource (they encode the parent chain). */
  urns: string[];
  /** The program module's exports (stack outputs). */
  exports: Record<string, unknown>;
  /** Resolved values of the exported outputs; `undefined` for exports that are not set. */
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
}

/** Text, numbers and flags as they are; lists and objects (a structured setting such as `model`) as Pulumi nests them. */
export type ConfigValue = string | number | boolean | readonly string[] | Readonly<Record<string, unknown>>;

const resourceGroupId = (name: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${name}`;

/** ARM's answer for a resource: its name property becomes `name`, plus the computed fields we read. */
function armResponse(type: string, name: string, inputs: PropertyBag): { id: string; state: Record<string, unknown> } {
  const rg = resourceGroupId(inputs.resourceGroupName);
  const ns = `${rg}/providers/Microsoft.EventHub/namespaces/${inputs.namespaceName}`;
  const account = `${rg}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}`;
  switch (type) {
    case "azure-native:resources:ResourceGroup":
      return { id: rg, state: { ...inputs, name: inputs.resourceGroupName } };
    case "azure-native:eventhub:Namespace":
      return {
        id: ns,
        state: {
          ...inputs,
          name: inputs.namespaceName,
          serviceBusEndpoint: `https://${inputs.namespaceName}.servicebus.windows.net:443/`,
          identity: inputs.identity && { ...inputs.identity, principalId: NAMESPACE_PRINCIPAL_ID, tenantId: TENANT_ID },
        },
      };
    case "azure-native:eventhub:DisasterRecoveryConfig":
      return { id: `${ns}/disasterRecoveryConfigs/${inputs.alias}`, state: { ...inputs, name: inputs.alias } };
    case "azure-native:authorization:ManagementLockByScope":
      return { id: `${inputs.scope}/providers/Microsoft.Authorization/locks/${inputs.lockName}`, state: { ...inputs, name: inputs.lockName } };
    case "azure-native:monitor:DiagnosticSetting":
      return { id: `${inputs.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${inputs.name}`, state: { ...inputs } };
    case "azure-native:network:VirtualNetwork":
      return { id: `${rg}/providers/Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName}`, state: { ...inputs, name: inputs.virtualNetworkName } };
    case "azure-native:network:Subnet":
      return {
        id: `${resourceGroupId(inputs.resourceGroupName)}/providers/Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName}/subnets/${inputs.subnetName}`,
        state: { ...inputs, name: inputs.subnetName },
      };
    case "azure-native:network:PrivateEndpoint":
      return { id: `${rg}/providers/Microsoft.Network/privateEndpoints/${inputs.privateEndpointName}`, state: { ...inputs, name: inputs.privateEndpointName } };
    case "azure-native:network:PrivateDnsZoneGroup":
      return {
        id: `${rg}/providers/Microsoft.Network/privateEndpoints/${inputs.privateEndpointName}/privateDnsZoneGroups/${inputs.privateDnsZoneGroupName}`,
        state: { ...inputs, name: inputs.privateDnsZoneGroupName },
      };
    case "azure-native:privatedns:PrivateZone":
      return { id: `${rg}/providers/Microsoft.Network/privateDnsZones/${inputs.privateZoneName}`, state: { ...inputs, name: inputs.privateZoneName } };
    case "azure-native:privatedns:VirtualNetworkLink":
      return {
        id: `${rg}/providers/Microsoft.Network/privateDnsZones/${inputs.privateZoneName}/virtualNetworkLinks/${inputs.virtualNetworkLinkName}`,
        state: { ...inputs, name: inputs.virtualNetworkLinkName },
      };
    case "azure-native:eventhub:EventHub":
      return { id: `${ns}/eventhubs/${inputs.eventHubName}`, state: { ...inputs, name: inputs.eventHubName } };
    case "azure-native:eventhub:ConsumerGroup":
      return {
        id: `${ns}/eventhubs/${inputs.eventHubName}/consumergroups/${inputs.consumerGroupName}`,
        state: { ...inputs, name: inputs.consumerGroupName },
      };
    case "azure-native:eventhub:EventHubAuthorizationRule":
      return {
        id: `${ns}/eventhubs/${inputs.eventHubName}/authorizationRules/${inputs.authorizationRuleName}`,
        state: { ...inputs, name: inputs.authorizationRuleName },
      };
    case "azure-native:storage:StorageAccount":
      return {
        id: account,
        state: { ...inputs, name: inputs.accountName, primaryEndpoints: { blob: `https://${inputs.accountName}.blob.core.windows.net/` } },
      };
    case "azure-native:storage:BlobServiceProperties":
      return { id: `${account}/blobServices/default`, state: { ...inputs, name: "default" } };
    case "azure-native:storage:BlobContainer":
      return {
        id: `${account}/blobServices/default/containers/${inputs.containerName}`,
        state: { ...inputs, name: inputs.containerName },
      };
    case "azure-native:containerregistry:Registry":
      return {
        id: `${rg}/providers/Microsoft.ContainerRegistry/registries/${inputs.registryName}`,
        state: { ...inputs, name: inputs.registryName, loginServer: `${inputs.registryName}.azurecr.io` },
      };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return {
        id: `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`,
        state: { ...inputs, name: inputs.resourceName, principalId: IDENTITY_PRINCIPAL_ID, clientId: IDENTITY_CLIENT_ID, tenantId: TENANT_ID },
      };
    case "azure-native:operationalinsights:Workspace":
      return {
        id: `${rg}/providers/Microsoft.OperationalInsights/workspaces/${inputs.workspaceName}`,
        state: { ...inputs, name: inputs.workspaceName, customerId: WORKSPACE_CUSTOMER_ID },
      };
    case "azure-native:applicationinsights:Component":
      return {
        id: `${rg}/providers/Microsoft.Insights/components/${inputs.resourceName}`,
        state: { ...inputs, name: inputs.resourceName, connectionString: APPLICATION_INSIGHTS_CONNECTION_STRING },
      };
    case "azure-native:app:ManagedEnvironment":
      return { id: `${rg}/providers/Microsoft.App/managedEnvironments/${inputs.environmentName}`, state: { ...inputs, name: inputs.environmentName } };
    case "azure-native:app:ContainerApp":
      return { id: `${rg}/providers/Microsoft.App/containerApps/${inputs.containerAppName}`, state: { ...inputs, name: inputs.containerAppName } };
    case "azure-native:cognitiveservices:Account":
      return {
        id: `${rg}/providers/Microsoft.CognitiveServices/accounts/${inputs.accountName}`,
        state: {
          ...inputs,
          name: inputs.accountName,
          properties: { ...inputs.properties, endpoint: `https://${inputs.properties.customSubDomainName}.openai.azure.com/` },
        },
      };
    case "azure-native:cognitiveservices:Deployment":
      return {
        id: `${rg}/providers/Microsoft.CognitiveServices/accounts/${inputs.accountName}/deployments/${inputs.deploymentName}`,
        state: { ...inputs, name: inputs.deploymentName },
      };
    case "azure-native:authorization:RoleAssignment":
      return {
        id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${inputs.roleAssignmentName}`,
        state: { ...inputs, name: inputs.roleAssignmentName },
      };
    default:
      throw new Error(`the stack declared an unexpected resource type ${type} (${name})`);
  }
}

/** ARM's answer for the invokes the program makes. */
function invokeResponse(token: string, inputs: PropertyBag): Record<string, unknown> {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { clientId: "client", objectId: "object", subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID };
    case "azure-native:eventhub:listEventHubKeys": {
      const base = `Endpoint=sb://${inputs.namespaceName}.servicebus.windows.net/;SharedAccessKeyName=${inputs.authorizationRuleName}`;
      return {
        keyName: inputs.authorizationRuleName,
        primaryKey: FAKE_SAS_KEY,
        secondaryKey: FAKE_SAS_KEY,
        primaryConnectionString: `${base};SharedAccessKey=${FAKE_SAS_KEY};EntityPath=${inputs.eventHubName}`,
        secondaryConnectionString: `${base};SharedAccessKey=${FAKE_SAS_KEY};EntityPath=${inputs.eventHubName}`,
      };
    }
    case "azure-native:storage:listStorageAccountKeys":
      return { keys: [{ keyName: "key1", value: FAKE_STORAGE_KEY, permissions: "FULL" }] };
    case "azure-native:operationalinsights:getSharedKeys":
      return { primarySharedKey: FAKE_WORKSPACE_KEY, secondarySharedKey: FAKE_WORKSPACE_KEY };
    default:
      throw new Error(`the stack made an unexpected invoke ${token}`);
  }
}

/** Config as `pulumi config` hands it over: text, lists and objects as JSON, keys in the project's namespace. */
function toPulumiConfig(config: Readonly<Record<string, ConfigValue>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    out[fullKey] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return out;
}

function settle<T>(value: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => value.apply(resolve));
}

interface Recorders {
  resources: RecordedResource[];
  calls: RecordedCall[];
}

/** The mock monitor's request for one resource: only what we read of it. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
}
interface MockMonitor {
  registerResource(req: RegisterRequest, callback: (error: unknown, response: unknown) => void): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}

/** Installs fresh mocks and the config, as the language host does before it loads the program. */
async function prepare(config: Readonly<Record<string, ConfigValue>>): Promise<Recorders> {
  const recorders: Recorders = { resources: [], calls: [] };
  // Mocks see inputs only; the monitor's request also carries the dependencies and the parent (for the URN).
  const requests = new Map<string, { dependencies: string[]; urn: string }>();
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, custom }) => {
        const { dependencies, urn } = requests.get(`${type}::${name}`) ?? { dependencies: [], urn: "" };
        if (!custom) {
          recorders.resources.push({ type, name, custom: false, inputs, id: undefined, dependencies, urn });
          return { id: undefined, state: {} };
        }
        const response = armResponse(type, name, inputs);
        recorders.resources.push({ type, name, custom: true, inputs, id: response.id, dependencies, urn });
        return response;
      },
      call: ({ token, inputs }) => {
        recorders.calls.push({ token, inputs });
        return invokeResponse(token, inputs);
      },
    },
    PROJECT,
    STACK,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
    requests.set(`${req.getType()}::${req.getName()}`, { dependencies: req.getDependenciesList(), urn });
    return register(req, callback);
  };
  pulumi.runtime.setAllConfig(toPulumiConfig(config));
  vi.resetModules();
  return recorders;
}

const importProgram = async () => (await import("../../index.js")) as Record<string, unknown>;

/**
 * Imports index.ts afresh under mocks with the given config and waits until the program has
 * registered everything. The config is set before the import, as the real runtime does.
 */
export async function runProgram(
  config: Readonly<Record<string, ConfigValue>>,
  load: () => Promise<Record<string, unknown>> = importProgram,
): Promise<ProgramRun> {
  const { resources, calls } = await prepare(config);
  const program = await load();

  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [key, value] of Object.entries(program)) {
    if (!pulumi.Output.isInstance(value)) {
      outputs[key] = value;
      continue;
    }
    outputs[key] = await settle(value);
    if (await pulumi.isSecret(value)) secretOutputs.add(key);
  }
  // The mock monitor keeps the URNs, which encode each resource's parent chain.
  const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
  await pulumi.runtime.disconnect(); // waits for every outstanding registration
  return { resources, calls, urns: [...monitor.getRegisteredResources().keys()], exports: program, outputs, secretOutputs };
}

/** Loads the program with a config it must refuse; returns the error and whatever it declared first. */
export async function runRejectedProgram(
  config: Readonly<Record<string, ConfigValue>>,
): Promise<Recorders & { error: unknown }> {
  const recorders = await prepare(config);
  let error: unknown;
  try {
    await importProgram();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error("the program accepted a config it should have refused");
  await pulumi.runtime.disconnect();
  return { ...recorders, error };
}

/**
 * The config the Pulumi CLI hands the program for a stack: Pulumi.yaml's defaults overlaid with
 * Pulumi.<stack>.yaml, plus test-specific overrides.
 */
export function stackConfig(
  stack: string,
  overrides: Readonly<Record<string, ConfigValue>> = {},
): Record<string, ConfigValue> {
  const root = path.join(__dirname, "..", "..");
  const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default: ConfigValue }>;
  };
  const stackFile = parse(readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, ConfigValue>;
  };
  const merged: Record<string, ConfigValue> = {};
  for (const [key, declaration] of Object.entries(project.config)) merged[`${PROJECT}:${key}`] = declaration.default;
  Object.assign(merged, stackFile.config);
  for (const [key, value] of Object.entries(overrides)) merged[key.includes(":") ? key : `${PROJECT}:${key}`] = value;
  return merged;
}

/** Resources of one type, in registration order. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type with a name; fails the test when it is missing. */
export function named(run: ProgramRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

/** The only resource of a type; fails the test when there are none or several. */
export function single(run: ProgramRun, type: string): RecordedResource {
  const found = ofType(run, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** A role assignment's roleDefinitionId for a built-in role GUID, in the mocked subscription. */
export const roleDefinitionIdOf = (guid: string) => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

/** An environment variable of a container app: a value, or a reference to one of its secrets. */
export type EnvVar = { name: string; value?: string; secretRef?: string };

/** The hosted worker's container app, its one container, and its plain (non-secret) environment by name. */
export const workerAppOf = (run: ProgramRun) => single(run, "azure-native:app:ContainerApp");
export const workerContainerOf = (run: ProgramRun) => workerAppOf(run).inputs.template.containers[0];
export const workerEnvOf = (run: ProgramRun): Record<string, string | undefined> =>
  Object.fromEntries((workerContainerOf(run).env as EnvVar[]).filter((e) => e.secretRef === undefined).map((e) => [e.name, e.value]));

/**
 * The problems a refused program reported. Each load imports infra/config afresh, so its error class
 * is not the test's: recognise it by name and Pulumi's RunError brand instead of instanceof.
 */
export function configProblemsOf(error: unknown): readonly ConfigProblem[] {
  if (!(error instanceof Error) || error.name !== "StackConfigError" || !pulumi.RunError.isInstance(error)) {
    throw new Error(`expected a StackConfigError, got: ${String(error)}`);
  }
  return (error as unknown as { problems: readonly ConfigProblem[] }).problems;
}
