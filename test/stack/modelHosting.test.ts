import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { stableGuid } from "../../infra/stableGuid";
import { validateSettings, type RawSettings } from "../../worker/config";
import {
  IDENTITY_CLIENT_ID,
  IDENTITY_PRINCIPAL_ID,
  named,
  ofType,
  roleDefinitionIdOf,
  runProgram,
  single,
  stackConfig,
  workerAppOf,
  workerEnvOf,
  type ProgramRun,
} from "./programHarness";

/** `pulumi up` with a model: the Azure OpenAI account and deployments, the grants, and the hosted worker that calls them. */

const IMAGE = "ai-worker:3f2c1ab";
const PRINCIPAL = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
const ACCOUNT = "azure-native:cognitiveservices:Account";
const DEPLOYMENT = "azure-native:cognitiveservices:Deployment";
const ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment";
const PRIMARY = { name: "primary", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 30 };
const SCHEMA = {
  type: "object",
  properties: { intent: { type: "string" }, urgency: { type: "string", enum: ["low", "medium", "high"] } },
  required: ["intent", "urgency"],
  additionalProperties: false,
};

const deploymentsOf = (run: ProgramRun) => JSON.parse(workerEnvOf(run).MODEL_DEPLOYMENTS!) as Array<Record<string, unknown>>;
const openAiGrants = (run: ProgramRun) => ofType(run, ROLE_ASSIGNMENT).filter((r) => r.inputs.roleDefinitionId === roleDefinitionIdOf(OPENAI_USER));

/** The worker's own settings parser, on what the stack hands the app: the two cannot drift apart. */
function workerConfigOf(run: ProgramRun) {
  const parsed = validateSettings(workerEnvOf(run) as RawSettings, {});
  if (parsed.kind !== "ok") throw new Error(`the worker refused the stack's environment: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

let single30: ProgramRun;
let fleet: ProgramRun;
beforeAll(async () => {
  // The example: one GlobalStandard gpt-4o-mini deployment of 30 units, structured answers.
  single30 = await runProgram(
    stackConfig("dev", {
      deployWorker: true,
      workerImage: IMAGE,
      model: { task: "structured", systemPrompt: "Triage the message.", responseSchema: SCHEMA, deployments: [PRIMARY] },
    }),
  );
  // Two created deployments (spill from the first to the second), one existing, workers elsewhere too, 8 partitions.
  fleet = await runProgram(
    stackConfig("dev", {
      deployWorker: true,
      workerImage: IMAGE,
      principalId: PRINCIPAL,
      partitionCount: 8,
      model: {
        deployments: [
          { ...PRIMARY, capacity: 2000 },
          { name: "spill", model: "gpt-4o", version: "2024-11-20", sku: "Standard", capacity: 1000, priority: 1, weight: 3 },
        ],
        existing: [{ name: "shared", endpoint: "https://shared.openai.azure.com/", deployment: "gpt-4o-mini", requestsPerMinute: 6000, tokensPerMinute: 1000000, priority: 2 }],
      },
    }),
  );
});

describe("the Azure OpenAI account", () => {
  it("is kind OpenAI, S0, with a custom subdomain of its globally unique name, local auth off, public access as the stack's, tagged", () => {
    const { inputs, urn } = single(single30, ACCOUNT);
    const storage = single(single30, "azure-native:storage:StorageAccount").inputs.accountName as string;
    expect(inputs).toMatchObject({
      resourceGroupName: "rg-aiwork-dev",
      location: "westeurope",
      accountName: storage.replace(/^staiwork/, "oai-aiwork-"),
      kind: "OpenAI",
      sku: { name: "S0" },
      properties: { customSubDomainName: inputs.accountName, disableLocalAuth: true, publicNetworkAccess: "Enabled" },
    });
    expect(inputs.tags).toMatchObject({ "managed-by": "pulumi", "pulumi-stack": "dev", environment: "dev" });
    expect(urn.split("::")[2]).toBe("aiworkers:infra:OpenAiAccount$azure-native:cognitiveservices:Account");
  });

  it("holds the deployment with its SKU, capacity and model, pinned to its version until Azure retires it", () => {
    const account = single(single30, ACCOUNT);
    expect(single(single30, DEPLOYMENT).inputs).toEqual({
      resourceGroupName: "rg-aiwork-dev",
      accountName: account.inputs.accountName,
      deploymentName: "primary",
      sku: { name: "GlobalStandard", capacity: 30 },
      properties: {
        model: { format: "OpenAI", name: "gpt-4o-mini", version: "2024-07-18" },
        versionUpgradeOption: "OnceCurrentVersionExpired",
      },
    });
  });

  it("writes the deployments of one account one after another (dependsOn), in the configured order", () => {
    const [first, second] = ofType(fleet, DEPLOYMENT);
    expect([first!.inputs.deploymentName, second!.inputs.deploymentName]).toEqual(["primary", "spill"]);
    expect(second!.dependencies).toContain(first!.urn);
    expect(first!.dependencies).not.toContain(second!.urn);
    expect(second!.inputs).toMatchObject({ sku: { name: "Standard", capacity: 1000 }, properties: { model: { name: "gpt-4o", version: "2024-11-20" } } });
  });

  it("exports its endpoint and the deployment names, and the identity's principal for grants on existing accounts", () => {
    const account = single(fleet, ACCOUNT).inputs.accountName as string;
    expect(fleet.outputs).toMatchObject({
      openAiEndpoint: `https://${account}.openai.azure.com/`,
      openAiDeploymentNames: ["primary", "spill"],
      workerIdentityPrincipalId: IDENTITY_PRINCIPAL_ID,
    });
    expect(fleet.secretOutputs.has("openAiEndpoint")).toBe(false);
  });
});

describe("access", () => {
  it("grants the worker identity Cognitive Services OpenAI User on the account, and nothing else new", () => {
    const accountId = single(single30, ACCOUNT).id!;
    expect(openAiGrants(single30).map((g) => g.inputs)).toEqual([
      {
        roleAssignmentName: stableGuid(accountId, OPENAI_USER, IDENTITY_PRINCIPAL_ID),
        scope: accountId,
        roleDefinitionId: roleDefinitionIdOf(OPENAI_USER),
        principalId: IDENTITY_PRINCIPAL_ID,
        principalType: "ServicePrincipal",
      },
    ]);
    expect(ofType(single30, ROLE_ASSIGNMENT)).toHaveLength(5);
    expect(openAiGrants(single30)[0]!.name).toBe("aiworkers-worker-identity-roles-openai-user");
  });

  it("grants principalId the same role when the workers (also) run elsewhere", () => {
    const accountId = single(fleet, ACCOUNT).id!;
    expect(openAiGrants(fleet).map((g) => [g.name, g.inputs.scope, g.inputs.principalId]).sort()).toEqual(
      [
        ["aiworkers-worker-identity-roles-openai-user", accountId, IDENTITY_PRINCIPAL_ID],
        ["aiworkers-worker-roles-openai-user", accountId, PRINCIPAL],
      ].sort(),
    );
  });

  it("creates the app only after its model grant and its deployments exist", () => {
    const { dependencies } = workerAppOf(fleet);
    expect(dependencies).toContain(named(fleet, ROLE_ASSIGNMENT, "aiworkers-worker-identity-roles-openai-user").urn);
    for (const deployment of ofType(fleet, DEPLOYMENT)) expect(dependencies).toContain(deployment.urn);
  });
});

describe("the hosted worker", () => {
  it("runs the model processor with the task, prompt and inline schema, and no thread pool", () => {
    const env = workerEnvOf(single30);
    expect(env).toMatchObject({ PROCESSOR: "model", MODEL_TASK: "structured", MODEL_SYSTEM_PROMPT: "Triage the message.", AZURE_CLIENT_ID: IDENTITY_CLIENT_ID });
    expect(JSON.parse(env.MODEL_JSON_SCHEMA!)).toEqual(SCHEMA);
    expect(env.PROCESSOR_THREADS).toBeUndefined();
  });

  it("calls the deployment at the account's endpoint with Entra ID, its quota derived from 30 units: 180 RPM, 30,000 TPM", () => {
    const account = single(single30, ACCOUNT).inputs.accountName as string;
    expect(deploymentsOf(single30)).toEqual([
      {
        name: "primary",
        provider: "azure-openai",
        endpoint: `https://${account}.openai.azure.com`,
        deployment: "primary",
        priority: 0,
        weight: 1,
        requestsPerMinute: 180,
        tokensPerMinute: 30000,
      },
    ]);
    const app = JSON.stringify(workerAppOf(single30).inputs);
    expect(app).not.toMatch(/apiKey|API_KEY/i);
    expect(workerAppOf(single30).inputs.configuration.value.secrets.map((s: { name: string }) => s.name)).toEqual(["applicationinsights-connection-string"]);
  });

  it("lists the created deployments then the existing ones, with their priorities, weights and quotas", () => {
    expect(deploymentsOf(fleet).map((d) => [d.name, d.priority, d.weight, d.requestsPerMinute, d.tokensPerMinute, d.endpoint])).toEqual([
      ["primary", 0, 1, 12000, 2000000, fleet.outputs.openAiEndpoint!.toString().replace(/\/$/, "")],
      ["spill", 1, 3, 6000, 1000000, fleet.outputs.openAiEndpoint!.toString().replace(/\/$/, "")],
      ["shared", 2, 1, 6000, 1000000, "https://shared.openai.azure.com"],
    ]);
  });

  it("gives the worker settings its own parser accepts: the deployments, priorities, quotas and schema it will use", () => {
    const config = workerConfigOf(single30);
    expect(config.processor).toMatchObject({
      kind: "model",
      deployments: [{ name: "primary", priority: 0, quota: { requestsPerMinute: 180, tokensPerMinute: 30000 }, connection: { provider: "azure-openai", deployment: "primary" } }],
      task: { kind: "chat", systemPrompt: "Triage the message.", jsonSchema: { schema: SCHEMA } },
    });
    const processor = workerConfigOf(fleet).processor as unknown as { deployments: Array<{ name: string; priority: number; weight: number; connection: Record<string, unknown> }> };
    expect(processor.deployments.map((d) => [d.name, d.priority, d.weight])).toEqual([
      ["primary", 0, 1],
      ["spill", 1, 3],
      ["shared", 2, 1],
    ]);
    for (const deployment of processor.deployments) expect(deployment.connection.apiKey).toBeUndefined();
  });

  it("caps KEDA's replicas at what the quota keeps busy: 180 RPM is 3 requests/s, one replica", () => {
    expect(workerAppOf(single30).inputs.template.scale).toMatchObject({ minReplicas: 1, maxReplicas: 1 });
  });

  it("sizes a larger quota in replicas of 95 requests/s, under the partition count: 24,000 RPM is 400 requests/s, 5 replicas of 8", () => {
    expect(workerAppOf(fleet).inputs.template.scale).toMatchObject({ minReplicas: 1, maxReplicas: 5 });
  });
});

describe("choices beyond the quota", () => {
  afterEach(() => vi.restoreAllMocks());

  it("takes workerMaxReplicas within the partitions, and warns in preview that the quota cannot feed it", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const chosen = await runProgram(stackConfig("dev", { deployWorker: true, workerImage: IMAGE, workerMaxReplicas: 3, model: { deployments: [PRIMARY] } }));
    expect(workerAppOf(chosen).inputs.template.scale.maxReplicas).toBe(3);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      "workerMaxReplicas 3 is more than the 1 replica(s) the model's quota keeps busy (3 requests/s in all, 95 requests/s per replica): the others would wait on the quota",
    ]);
  });

  it("without a model, stays at the partition count and warns of nothing", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const plain = await runProgram(stackConfig("dev", { deployWorker: true, workerImage: IMAGE, partitionCount: 6 }));
    expect(workerAppOf(plain).inputs.template.scale.maxReplicas).toBe(6);
    expect(ofType(plain, ACCOUNT)).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it("with workers elsewhere only, creates the account and the principal's grant, and no hosting", async () => {
    const elsewhere = await runProgram(stackConfig("dev", { principalId: PRINCIPAL, model: { deployments: [PRIMARY] } }));
    expect(ofType(elsewhere, "azure-native:app:ContainerApp")).toEqual([]);
    expect(openAiGrants(elsewhere).map((g) => g.inputs.principalId)).toEqual([PRINCIPAL]);
    expect(elsewhere.outputs.openAiDeploymentNames).toEqual(["primary"]);
  });
});
