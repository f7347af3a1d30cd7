import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { stableGuid } from "../../infra/stableGuid";
import { validateSettings, type RawSettings } from "../../worker/config";
import {
  APPLICATION_INSIGHTS_CONNECTION_STRING,
  FAKE_SAS_KEY,
  FAKE_STORAGE_KEY,
  FAKE_WORKSPACE_KEY,
  IDENTITY_CLIENT_ID,
  IDENTITY_PRINCIPAL_ID,
  named,
  ofType,
  roleDefinitionIdOf,
  runProgram,
  single,
  stackConfig,
  workerAppOf,
  workerContainerOf,
  workerEnvOf,
  WORKSPACE_CUSTOMER_ID,
  type EnvVar,
  type ProgramRun,
} from "./programHarness";

/** The stack hosting the worker on Container Apps: what `pulumi up` does after deploy.yml pushed ai-worker:<commit>. */

const IMAGE = "ai-worker:3f2c1ab";
const ROLE = {
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
};
const HOSTING_TYPES = [
  "azure-native:containerregistry:Registry",
  "azure-native:managedidentity:UserAssignedIdentity",
  "azure-native:operationalinsights:Workspace",
  "azure-native:applicationinsights:Component",
  "azure-native:app:ManagedEnvironment",
  "azure-native:app:ContainerApp",
  "azure-native:authorization:RoleAssignment",
];

/** A property that carries a secret output is sent (and stored) whole as a secret. */
const secretValue = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(stackConfig("dev", { deployWorker: true, workerImage: IMAGE }));
});

describe("deployWorker off (the default)", () => {
  it("creates none of the hosting resources, even with an image configured", async () => {
    const off = await runProgram(stackConfig("dev", { workerImage: IMAGE }));
    for (const type of HOSTING_TYPES) expect(ofType(off, type), type).toEqual([]);
    expect(off.calls.map((c) => c.token)).not.toContain("azure-native:operationalinsights:getSharedKeys");
  });

  it("with workerRegistry, creates the registry alone so a first image can be pushed", async () => {
    const registryOnly = await runProgram(stackConfig("dev", { workerRegistry: true }));
    const registry = single(registryOnly, "azure-native:containerregistry:Registry");
    for (const type of HOSTING_TYPES.filter((t) => !t.includes("containerregistry"))) expect(ofType(registryOnly, type), type).toEqual([]);
    expect(registryOnly.outputs.workerRegistryName).toBe(registry.inputs.registryName);
    expect(registryOnly.outputs.workerRegistryLoginServer).toBe(`${registry.inputs.registryName}.azurecr.io`);
    expect(registryOnly.outputs.workerAppName).toBeUndefined();
    // Same resource, same name as under deployWorker: turning deployWorker on later does not replace it.
    expect(registry.urn).toBe(single(run, "azure-native:containerregistry:Registry").urn);
    expect(registry.inputs.registryName).toBe(single(run, "azure-native:containerregistry:Registry").inputs.registryName);
  });
});

describe("deployWorker on", () => {
  it("adds the registry, identity, four grants, workspace, environment and app, each in its component", () => {
    const added = run.resources.filter((r) => r.custom && HOSTING_TYPES.includes(r.type)).map((r) => `${r.type} ${r.name}`).sort();
    expect(added).toEqual(
      [
        "azure-native:containerregistry:Registry aiworkers-worker-registry",
        "azure-native:managedidentity:UserAssignedIdentity aiworkers-worker-identity",
        "azure-native:authorization:RoleAssignment aiworkers-worker-identity-roles-eventhub-receiver",
        "azure-native:authorization:RoleAssignment aiworkers-worker-identity-roles-blob-contributor-checkpoints-ai-workers",
        "azure-native:authorization:RoleAssignment aiworkers-worker-identity-roles-blob-contributor-dead-letters",
        "azure-native:authorization:RoleAssignment aiworkers-worker-identity-roles-acr-pull",
        "azure-native:operationalinsights:Workspace aiworkers-worker-environment-logs",
        "azure-native:applicationinsights:Component aiworkers-worker-insights",
        "azure-native:app:ManagedEnvironment aiworkers-worker-environment",
        "azure-native:app:ContainerApp aiworkers-worker",
      ].sort(),
    );
    const parentOf = (type: string, name: string) => named(run, type, name).urn.split("::")[2];
    expect(parentOf("azure-native:app:ContainerApp", "aiworkers-worker")).toBe("aiworkers:infra:WorkerApp$azure-native:app:ContainerApp");
    expect(parentOf("azure-native:authorization:RoleAssignment", "aiworkers-worker-identity-roles-acr-pull")).toBe(
      "aiworkers:infra:WorkerRoleAssignments$azure-native:authorization:RoleAssignment",
    );
    expect(parentOf("aiworkers:infra:WorkerRoleAssignments", "aiworkers-worker-identity-roles")).toBe("aiworkers:infra:WorkerIdentity$aiworkers:infra:WorkerRoleAssignments");
  });

  it("creates a Basic registry without admin user or anonymous pull, named uniquely like the other global names", () => {
    const { inputs } = single(run, "azure-native:containerregistry:Registry");
    const storage = single(run, "azure-native:storage:StorageAccount").inputs.accountName as string;
    expect(inputs).toMatchObject({ sku: { name: "Basic" }, adminUserEnabled: false, anonymousPullEnabled: false, resourceGroupName: "rg-aiwork-dev" });
    expect(inputs.registryName).toBe(storage.replace(/^st/, "cr"));
    expect(inputs.tags).toMatchObject({ "managed-by": "pulumi", "pulumi-stack": "dev", environment: "dev" });
  });

  it("grants the identity exactly receive on the hub, blobs on its two containers and pull on the registry", () => {
    const hubId = single(run, "azure-native:eventhub:EventHub").id!;
    const container = (name: string) => named(run, "azure-native:storage:BlobContainer", `aiworkers-checkpoints-${name}`).id!;
    const registryId = single(run, "azure-native:containerregistry:Registry").id!;
    const grants = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.inputs);

    expect(grants.map((g) => [g.scope, g.roleDefinitionId]).sort()).toEqual(
      [
        [hubId, roleDefinitionIdOf(ROLE.eventHubsDataReceiver)],
        [container("checkpoints-ai-workers"), roleDefinitionIdOf(ROLE.storageBlobDataContributor)],
        [container("dead-letters"), roleDefinitionIdOf(ROLE.storageBlobDataContributor)],
        [registryId, roleDefinitionIdOf(ROLE.acrPull)],
      ].sort(),
    );
    for (const grant of grants) {
      expect(grant).toMatchObject({ principalId: IDENTITY_PRINCIPAL_ID, principalType: "ServicePrincipal" });
      const roleGuid = (grant.roleDefinitionId as string).split("/").pop()!;
      expect(grant.roleAssignmentName).toBe(stableGuid(grant.scope, roleGuid, IDENTITY_PRINCIPAL_ID));
    }
  });

  it("creates the app only after every grant exists (dependsOn), so its first revision can pull and read", () => {
    const grantUrns = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.urn);
    expect(grantUrns).toHaveLength(4);
    for (const urn of grantUrns) expect(workerAppOf(run).dependencies).toContain(urn);
    expect(workerAppOf(run).dependencies).toContain(single(run, "azure-native:managedidentity:UserAssignedIdentity").urn);
  });

  it("runs one revision with no ingress, as the user-assigned identity, pulling with that identity", () => {
    const { inputs } = workerAppOf(run);
    const identityId = single(run, "azure-native:managedidentity:UserAssignedIdentity").id;
    const loginServer = run.outputs.workerRegistryLoginServer;
    expect(inputs.containerAppName).toBe("ca-aiwork-worker");
    expect(inputs.managedEnvironmentId).toBe(single(run, "azure-native:app:ManagedEnvironment").id);
    expect(inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [identityId] });
    expect(inputs.configuration).toEqual(
      secretValue({
        activeRevisionsMode: "Single",
        registries: [{ server: loginServer, identity: identityId }],
        secrets: [{ name: "applicationinsights-connection-string", value: APPLICATION_INSIGHTS_CONNECTION_STRING }],
      }),
    );
    expect(workerContainerOf(run).image).toBe(`${loginServer}/${IMAGE}`);
    expect(workerContainerOf(run).resources).toEqual({ cpu: 1, memory: "2Gi" });
  });

  it("configures the worker for Entra ID: the settings it needs, and no connection string, key or secret but Application Insights' by reference", () => {
    const env = workerEnvOf(run);
    const namespace = single(run, "azure-native:eventhub:Namespace").inputs.namespaceName as string;
    const account = single(run, "azure-native:storage:StorageAccount").inputs.accountName as string;
    expect(env).toEqual({
      EVENTHUB_NAMESPACE: `${namespace}.servicebus.windows.net`,
      EVENTHUB_NAME: "events",
      EVENTHUB_CONSUMER_GROUP: "ai-workers",
      STORAGE_ACCOUNT_URL: `https://${account}.blob.core.windows.net/`,
      CHECKPOINT_CONTAINER: "checkpoints-ai-workers",
      DEAD_LETTER_CONTAINER: "dead-letters",
      CREATE_CONTAINERS: "false",
      AZURE_CLIENT_ID: IDENTITY_CLIENT_ID,
      METRICS_PORT: "9464",
      PROCESSOR_THREADS: "1",
    });
    expect((workerContainerOf(run).env as EnvVar[]).filter((e) => e.secretRef !== undefined)).toEqual([
      { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", secretRef: "applicationinsights-connection-string" },
    ]);
    const text = JSON.stringify(workerAppOf(run).inputs);
    for (const leak of ["SharedAccessKey", "AccountKey", "EVENTHUB_CONNECTION_STRING", "STORAGE_CONNECTION_STRING", FAKE_SAS_KEY, FAKE_STORAGE_KEY, FAKE_WORKSPACE_KEY]) {
      expect(text).not.toContain(leak);
    }
  });

  it("gives the worker an environment its own config parser accepts, in Entra ID mode", () => {
    const parsed = validateSettings(workerEnvOf(run) as RawSettings);
    expect(parsed.kind, JSON.stringify(parsed)).toBe("ok");
    if (parsed.kind !== "ok") return;
    expect(parsed.config.eventHub.connectionString).toBeUndefined();
    expect(parsed.config.storage.connectionString).toBeUndefined();
    expect(parsed.config.eventHub.fullyQualifiedNamespace).toMatch(/\.servicebus\.windows\.net$/);
    expect(parsed.config.metrics.port).toBe(9464);
  });

  it("probes start-up and liveness on /healthz and readiness on /readyz, on the worker's METRICS_PORT", () => {
    const probes = workerContainerOf(run).probes as Array<{ type: string; httpGet: { path: string; port: number } }>;
    expect(probes.map((p) => [p.type, p.httpGet.path]).sort()).toEqual([
      ["Liveness", "/healthz"],
      ["Readiness", "/readyz"],
      ["Startup", "/healthz"],
    ]);
    for (const probe of probes) expect(String(probe.httpGet.port)).toBe(workerEnvOf(run).METRICS_PORT);
  });

  it("keeps every probe setting within what Container Apps accepts", () => {
    const limits = { failureThreshold: [1, 10], periodSeconds: [1, 240], timeoutSeconds: [1, 240], initialDelaySeconds: [0, 60] } as const;
    for (const probe of workerContainerOf(run).probes as Array<Record<string, unknown>>) {
      for (const [setting, [min, max]] of Object.entries(limits)) {
        const value = probe[setting];
        if (value === undefined) continue;
        expect(value, `${probe.type} ${setting}`).toBeGreaterThanOrEqual(min);
        expect(value, `${probe.type} ${setting}`).toBeLessThanOrEqual(max);
      }
    }
  });

  it("scales on the consumer group's lag with KEDA's azure-eventhub scaler, authenticated as the identity", () => {
    const scale = workerAppOf(run).inputs.template.scale;
    const namespace = single(run, "azure-native:eventhub:Namespace").inputs.namespaceName as string;
    const account = single(run, "azure-native:storage:StorageAccount").inputs.accountName as string;
    expect(scale).toMatchObject({ minReplicas: 1, maxReplicas: 4, pollingInterval: 30, cooldownPeriod: 300 });
    expect(scale.rules).toEqual([
      {
        name: "event-hub-lag",
        custom: {
          type: "azure-eventhub",
          identity: single(run, "azure-native:managedidentity:UserAssignedIdentity").id,
          metadata: {
            eventHubNamespace: namespace,
            eventHubName: "events",
            consumerGroup: "ai-workers",
            unprocessedEventThreshold: "64",
            checkpointStrategy: "blobMetadata",
            storageAccountName: account,
            blobContainer: "checkpoints-ai-workers",
          },
        },
      },
    ]);
  });

  it("caps replicas at the partition count and takes the threshold, minimum and size from config", async () => {
    const sized = await runProgram(
      stackConfig("dev", { deployWorker: true, workerImage: IMAGE, partitionCount: 12, workerMinReplicas: 0, unprocessedEventThreshold: 500, workerCpu: "2.5" }),
    );
    const { scale } = workerAppOf(sized).inputs.template;
    expect(scale).toMatchObject({ minReplicas: 0, maxReplicas: 12 });
    expect(scale.rules[0].custom.metadata.unprocessedEventThreshold).toBe("500");
    expect(workerContainerOf(sized).resources).toEqual({ cpu: 2.5, memory: "5Gi" });
    expect(workerEnvOf(sized).PROCESSOR_THREADS).toBe("2");
  });

  it("ships app logs to its own Log Analytics workspace, the key taken from the workspace as a secret", () => {
    const environment = single(run, "azure-native:app:ManagedEnvironment").inputs;
    const workspace = single(run, "azure-native:operationalinsights:Workspace").inputs;
    expect(environment.workloadProfiles).toEqual([{ name: "Consumption", workloadProfileType: "Consumption" }]);
    // The key makes the whole setting a secret on the wire: encrypted in state, masked in logs.
    expect(environment.appLogsConfiguration).toEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: { destination: "log-analytics", logAnalyticsConfiguration: { customerId: WORKSPACE_CUSTOMER_ID, sharedKey: FAKE_WORKSPACE_KEY } },
    });
    expect(workerAppOf(run).inputs.workloadProfileName).toBe("Consumption");
    expect(run.calls.filter((c) => c.token === "azure-native:operationalinsights:getSharedKeys").map((c) => c.inputs)).toEqual([
      { resourceGroupName: "rg-aiwork-dev", workspaceName: workspace.workspaceName },
    ]);
  });

  it("provisions Application Insights on the environment's workspace and hands the app its connection string as a secret, never a plain value", () => {
    const component = single(run, "azure-native:applicationinsights:Component");
    const workspace = single(run, "azure-native:operationalinsights:Workspace");
    expect(component.inputs).toMatchObject({
      resourceName: "appi-aiwork-workers",
      resourceGroupName: "rg-aiwork-dev",
      kind: "other",
      applicationType: "other",
      workspaceResourceId: workspace.id,
      ingestionMode: "LogAnalytics",
    });
    expect(component.urn.split("::")[2]).toBe("aiworkers:infra:WorkerInsights$azure-native:applicationinsights:Component");
    const env = (workerContainerOf(run).env as EnvVar[]).filter((e) => e.name === "APPLICATIONINSIGHTS_CONNECTION_STRING");
    expect(env).toEqual([{ name: "APPLICATIONINSIGHTS_CONNECTION_STRING", secretRef: "applicationinsights-connection-string" }]);
    expect(JSON.stringify(workerAppOf(run).inputs.template)).not.toContain("InstrumentationKey");
    const configuration = workerAppOf(run).inputs.configuration;
    expect(configuration[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(configuration.value.secrets).toEqual([{ name: "applicationinsights-connection-string", value: APPLICATION_INSIGHTS_CONNECTION_STRING }]);
    expect(JSON.stringify(run.outputs)).not.toContain("InstrumentationKey");
  });

  it("exports the app name, registry and identity client and principal ids, none of them secret", () => {
    expect(run.outputs).toMatchObject({
      workerAppName: "ca-aiwork-worker",
      workerRegistryName: single(run, "azure-native:containerregistry:Registry").inputs.registryName,
      workerRegistryLoginServer: expect.stringMatching(/^craiwork[0-9a-f]{10}\.azurecr\.io$/),
      workerIdentityClientId: IDENTITY_CLIENT_ID,
      workerIdentityPrincipalId: IDENTITY_PRINCIPAL_ID,
    });
    expect([...run.secretOutputs].sort()).toEqual(["connectionString", "producerConnectionString", "storageConnectionString"]);
  });

  it("in Entra ID mode needs no principalId: the identity is the workers' principal, and no SAS exists", async () => {
    const entra = await runProgram(stackConfig("dev", { deployWorker: true, workerImage: IMAGE, disableLocalAuth: true }));
    expect(ofType(entra, "azure-native:eventhub:EventHubAuthorizationRule")).toEqual([]);
    expect(ofType(entra, "azure-native:authorization:RoleAssignment").map((r) => r.inputs.principalId)).toEqual(Array(4).fill(IDENTITY_PRINCIPAL_ID));
    expect(entra.secretOutputs.size).toBe(0);
  });
});
