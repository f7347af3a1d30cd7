// Each policy of the pack against passing and failing resources, without the Pulumi CLI: the policy's own
// validateResource is called with the arguments the policy runtime would pass (type, input properties as a
// plain property bag, config) and a reportViolation spy. Then the real stack, under Pulumi mocks, must pass
// every policy.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import { policies } from "../../policy/policies";
import { runProgram, stackConfig, type ProgramRun } from "../stack/programHarness";

const TAGS = { "managed-by": "pulumi", "pulumi-project": "eventhubs-ai-workers", "pulumi-stack": "dev" };

class NotApplicable extends Error {}

interface Outcome {
  violations: string[];
  applicable: boolean;
}

/** Runs every validation of one policy on one resource, as the policy runtime does. */
async function check(
  policyName: string,
  type: string,
  props: Record<string, unknown>,
  config: Record<string, unknown> = {},
): Promise<Outcome> {
  const policy = policies.find((p) => p.name === policyName);
  if (!policy) throw new Error(`no policy ${policyName}`);
  const validations = [policy.validateResource ?? []].flat();
  const reportViolation = vi.fn<(message: string, urn?: string) => void>();
  const args: ResourceValidationArgs = {
    type,
    props,
    urn: `urn:pulumi:dev::eventhubs-ai-workers::${type}::test`,
    name: "test",
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    stackTags: new Map(),
    isType: (resourceClass) => (resourceClass as unknown as { __pulumiType?: string }).__pulumiType === type,
    // Typed props are the same bag, exactly as the runtime hands them over.
    asType: ((resourceClass: unknown) => (args.isType(resourceClass as never) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  let applicable = false;
  for (const validate of validations) {
    try {
      await validate(args, reportViolation);
      applicable = true;
    } catch (error) {
      if (!(error instanceof NotApplicable)) throw error;
    }
  }
  return { violations: reportViolation.mock.calls.map(([message]) => message), applicable };
}

const NAMESPACE = "azure-native:eventhub:Namespace";
const ACCOUNT = "azure-native:storage:StorageAccount";
const CONTAINER = "azure-native:storage:BlobContainer";
const HUB_RULE = "azure-native:eventhub:EventHubAuthorizationRule";
const NAMESPACE_RULE = "azure-native:eventhub:NamespaceAuthorizationRule";
const ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment";
const CONTAINER_APP = "azure-native:app:ContainerApp";
const OPENAI_ACCOUNT = "azure-native:cognitiveservices:Account";
const MODEL_DEPLOYMENT = "azure-native:cognitiveservices:Deployment";

const goodAccount = { location: "westeurope", tags: TAGS, minimumTlsVersion: "TLS1_2", enableHttpsTrafficOnly: true, allowBlobPublicAccess: false };
const probe = (type: string, path: string) => ({ type, httpGet: { path, port: 9464 } });
const appWith = (probes: unknown[] | undefined) => ({ location: "westeurope", tags: TAGS, template: { containers: [{ name: "worker", image: "x", probes }] } });

describe("tls-1-2-minimum", () => {
  it("passes TLS 1.2 namespaces and HTTPS-only TLS 1.2 storage", async () => {
    expect(await check("tls-1-2-minimum", NAMESPACE, { minimumTlsVersion: "1.2" })).toEqual({ violations: [], applicable: true });
    expect((await check("tls-1-2-minimum", ACCOUNT, goodAccount)).violations).toEqual([]);
  });

  it.each([
    ["a TLS 1.0 namespace", NAMESPACE, { minimumTlsVersion: "1.0" }, /minimumTlsVersion is 1.0; set "1.2"/],
    ["a namespace leaving TLS to Azure's default", NAMESPACE, {}, /not set \(Azure then accepts TLS 1.0\)/],
    ["TLS 1.1 storage", ACCOUNT, { ...goodAccount, minimumTlsVersion: "TLS1_1" }, /minimumTlsVersion is TLS1_1; set "TLS1_2"/],
    ["storage taking plain HTTP", ACCOUNT, { ...goodAccount, enableHttpsTrafficOnly: false }, /must refuse plain HTTP/],
  ])("rejects %s", async (_what, type, props, message) => {
    const { violations } = await check("tls-1-2-minimum", type, props);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(message);
  });

  it("does not apply to other resources", async () => {
    expect(await check("tls-1-2-minimum", "azure-native:eventhub:EventHub", { partitionCount: 4 })).toEqual({ violations: [], applicable: false });
  });
});

describe("no-public-blob-access", () => {
  it("passes an account with public access off and private containers", async () => {
    expect((await check("no-public-blob-access", ACCOUNT, goodAccount)).violations).toEqual([]);
    expect((await check("no-public-blob-access", CONTAINER, { containerName: "c", publicAccess: "None" })).violations).toEqual([]);
    expect((await check("no-public-blob-access", CONTAINER, { containerName: "c" })).violations).toEqual([]);
  });

  it.each([
    ["an account allowing public blobs", ACCOUNT, { ...goodAccount, allowBlobPublicAccess: true }, /allowBlobPublicAccess must be set to false/],
    ["an account leaving it to the default", ACCOUNT, { ...goodAccount, allowBlobPublicAccess: undefined }, /allowBlobPublicAccess must be set to false/],
    ["a public container", CONTAINER, { containerName: "c", publicAccess: "Blob" }, /publicAccess is Blob; containers must be private/],
  ])("rejects %s", async (_what, type, props, message) => {
    const { violations } = await check("no-public-blob-access", type, props);
    expect(violations).toEqual([expect.stringMatching(message)]);
  });
});

describe("no-manage-authorization-rules", () => {
  it("passes Listen and Send rules", async () => {
    expect((await check("no-manage-authorization-rules", HUB_RULE, { rights: ["Listen"] })).violations).toEqual([]);
    expect((await check("no-manage-authorization-rules", NAMESPACE_RULE, { rights: ["Send"] })).violations).toEqual([]);
  });

  it.each([HUB_RULE, NAMESPACE_RULE])("rejects Manage on %s", async (type) => {
    const { violations } = await check("no-manage-authorization-rules", type, { rights: ["Listen", "Send", "Manage"] });
    expect(violations).toEqual([expect.stringMatching(/include Manage; grant Listen or Send only/)]);
  });
});

describe("role-assignments-to-service-principals", () => {
  it("passes an assignment to a service principal", async () => {
    expect((await check("role-assignments-to-service-principals", ROLE_ASSIGNMENT, { principalType: "ServicePrincipal" })).violations).toEqual([]);
  });

  it.each([
    ["a User assignment", { principalType: "User" }, /principalType is User;/],
    ["a Group assignment", { principalType: "Group" }, /principalType is Group;/],
    ["an assignment leaving the type to ARM", {}, /not set \(ARM assumes User\).*"ServicePrincipal"/],
  ])("rejects %s", async (_what, props, message) => {
    expect((await check("role-assignments-to-service-principals", ROLE_ASSIGNMENT, props)).violations).toEqual([expect.stringMatching(message)]);
  });
});

describe("required-tags", () => {
  it("passes a located resource with the program's tags, whatever their case, and ignores child resources", async () => {
    expect((await check("required-tags", ACCOUNT, goodAccount)).violations).toEqual([]);
    expect((await check("required-tags", NAMESPACE, { location: "x", tags: { "Managed-By": "pulumi", "PULUMI-PROJECT": "p", "pulumi-stack": "s" } })).violations).toEqual([]);
    expect((await check("required-tags", ROLE_ASSIGNMENT, { principalType: "ServicePrincipal" })).violations).toEqual([]);
  });

  it.each([
    ["no tags at all", { location: "westeurope" }, /missing tags managed-by, pulumi-project, pulumi-stack/],
    ["one tag missing", { location: "westeurope", tags: { ...TAGS, "pulumi-stack": undefined } }, /^missing tag pulumi-stack\.$/],
    ["an empty tag value", { location: "westeurope", tags: { ...TAGS, "managed-by": "" } }, /^missing tag managed-by\.$/],
  ])("rejects %s", async (_what, props, message) => {
    expect((await check("required-tags", ACCOUNT, props)).violations).toEqual([expect.stringMatching(message)]);
  });

  it("requires the tags configured as additionalTags too", async () => {
    const config = { additionalTags: ["owner"] };
    expect((await check("required-tags", ACCOUNT, goodAccount, config)).violations).toEqual(["missing tag owner."]);
    expect((await check("required-tags", ACCOUNT, { ...goodAccount, tags: { ...TAGS, owner: "team-ai" } }, config)).violations).toEqual([]);
  });
});

describe("container-apps-health-probes", () => {
  it("passes a container with liveness and readiness probes", async () => {
    const props = appWith([probe("Startup", "/healthz"), probe("Liveness", "/healthz"), probe("Readiness", "/readyz")]);
    expect(await check("container-apps-health-probes", CONTAINER_APP, props)).toEqual({ violations: [], applicable: true });
  });

  it.each([
    ["no probes", undefined, /container worker has no Liveness or Readiness probe/],
    ["liveness only", [probe("Liveness", "/healthz")], /container worker has no Readiness probe/],
    ["readiness and startup only", [probe("Readiness", "/readyz"), probe("Startup", "/healthz")], /container worker has no Liveness probe/],
  ])("rejects a container with %s", async (_what, probes, message) => {
    expect((await check("container-apps-health-probes", CONTAINER_APP, appWith(probes))).violations).toEqual([expect.stringMatching(message)]);
  });

  it("rejects an app that declares no container", async () => {
    expect((await check("container-apps-health-probes", CONTAINER_APP, { location: "x", tags: TAGS })).violations).toEqual([
      "declares no containers, so none is probed.",
    ]);
  });
});

describe("openai-local-auth-disabled", () => {
  const account = (kind: string, properties: Record<string, unknown> | undefined) => ({ location: "westeurope", tags: TAGS, kind, sku: { name: "S0" }, properties });

  it("passes OpenAI and AI Services accounts with local auth off, and ignores other kinds", async () => {
    expect(await check("openai-local-auth-disabled", OPENAI_ACCOUNT, account("OpenAI", { disableLocalAuth: true }))).toEqual({ violations: [], applicable: true });
    expect((await check("openai-local-auth-disabled", OPENAI_ACCOUNT, account("AIServices", { disableLocalAuth: true }))).violations).toEqual([]);
    expect((await check("openai-local-auth-disabled", OPENAI_ACCOUNT, account("TextAnalytics", {}))).violations).toEqual([]);
  });

  it.each([
    ["local auth on", account("OpenAI", { disableLocalAuth: false }), /properties.disableLocalAuth is false; set true/],
    ["local auth left to Azure", account("OpenAI", { customSubDomainName: "x" }), /not set \(Azure then accepts API keys\)/],
    ["no properties at all, kind in another case", account("openai", undefined), /not set/],
    ["an AI Services account with keys", account("AIServices", {}), /grant Cognitive Services OpenAI User instead/],
  ])("rejects %s", async (_what, props, message) => {
    expect((await check("openai-local-auth-disabled", OPENAI_ACCOUNT, props)).violations).toEqual([expect.stringMatching(message)]);
  });

  it("does not apply to other resources", async () => {
    expect((await check("openai-local-auth-disabled", MODEL_DEPLOYMENT, { sku: { name: "Standard" } })).applicable).toBe(false);
  });
});

describe("model-deployments-declare-capacity", () => {
  const deployment = (sku: unknown) => ({ accountName: "a", deploymentName: "d", sku, properties: { model: { format: "OpenAI", name: "gpt-4o" } } });

  it("passes a deployment with a type and a capacity", async () => {
    expect(await check("model-deployments-declare-capacity", MODEL_DEPLOYMENT, deployment({ name: "GlobalStandard", capacity: 30 }))).toEqual({ violations: [], applicable: true });
  });

  it.each([
    ["no sku", undefined, [/sku.name is not set/, /sku.capacity is not set \(Azure then picks a default\)/]],
    ["a type without capacity", { name: "Standard" }, [/sku.capacity is not set/]],
    ["zero capacity", { name: "Standard", capacity: 0 }, [/sku.capacity is 0; declare the deployment's capacity units/]],
    ["a fractional capacity", { name: "Standard", capacity: 1.5 }, [/sku.capacity is 1.5;/]],
  ])("rejects %s", async (_what, sku, messages) => {
    expect((await check("model-deployments-declare-capacity", MODEL_DEPLOYMENT, deployment(sku))).violations).toEqual(messages.map((m) => expect.stringMatching(m)));
  });
});

describe("the stack against its own policy pack", () => {
  const judge = async (run: ProgramRun) => {
    const violations: string[] = [];
    const applied = new Set<string>();
    for (const resource of run.resources.filter((r) => r.custom)) {
      for (const policy of policies as ResourceValidationPolicy[]) {
        const outcome = await check(policy.name, resource.type, resource.inputs);
        if (outcome.applicable) applied.add(policy.name);
        violations.push(...outcome.violations.map((v) => `${policy.name} ${resource.type} ${resource.name}: ${v}`));
      }
    }
    return { violations, applied };
  };

  it("has unique policy names, all enforced", () => {
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    expect(policies).toHaveLength(8);
  });

  it("the dev stack passes every policy", async () => {
    expect((await judge(await runProgram(stackConfig("dev")))).violations).toEqual([]);
  });

  it("the dev stack hosting the worker with a model, a principal too, passes every policy, and every policy had something to check", async () => {
    const hosted = await runProgram(
      stackConfig("dev", {
        deployWorker: true,
        workerImage: "ai-worker:1.0.0",
        principalId: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        model: { deployments: [{ name: "primary", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 30 }] },
      }),
    );
    const { violations, applied } = await judge(hosted);
    expect(violations).toEqual([]);
    expect([...applied].sort()).toEqual(policies.map((p) => p.name).sort());
  });
});
