// The stack-wide policies (private endpoints when public access is off, diagnostic settings present) on stacks
// built the way the policy runtime hands them over: resources with their property dependencies.
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import { stackPolicies } from "../../policy/policies";

function resource(type: string, name: string, props: Record<string, unknown> = {}, propertyDependencies: Record<string, PolicyResource[]> = {}): PolicyResource {
  return { type, name, urn: `urn:pulumi:dev::p::${type}::${name}`, props, propertyDependencies, dependencies: [], opts: {} as never, isType: () => false, asType: () => undefined } as unknown as PolicyResource;
}

async function violations(policyName: string, resources: PolicyResource[]): Promise<string[]> {
  const policy = stackPolicies.find((p) => p.name === policyName)!;
  const report = vi.fn<(message: string, urn?: string) => void>();
  await policy.validateStack({ resources, getConfig: () => ({}) } as unknown as StackValidationArgs, report);
  return report.mock.calls.map(([message]) => message);
}

describe("private-endpoints-when-public-access-off", () => {
  const namespace = resource("azure-native:eventhub:Namespace", "ns", { publicNetworkAccess: "Disabled" });
  const account = resource("azure-native:cognitiveservices:Account", "oai", { properties: { publicNetworkAccess: "Disabled" } });
  const endpoint = (target: PolicyResource) => resource("azure-native:network:PrivateEndpoint", `pe-${target.name}`, {}, { privateLinkServiceConnections: [target] });

  it("passes closed services with an endpoint each, and open ones without", async () => {
    expect(await violations("private-endpoints-when-public-access-off", [namespace, account, endpoint(namespace), endpoint(account)])).toEqual([]);
    expect(await violations("private-endpoints-when-public-access-off", [resource("azure-native:eventhub:Namespace", "open", { publicNetworkAccess: "Enabled" })])).toEqual([]);
  });

  it("reports a closed service nothing can reach", async () => {
    expect(await violations("private-endpoints-when-public-access-off", [namespace, account, endpoint(namespace)])).toEqual([
      "oai has public network access Disabled and no private endpoint: set privateNetworking true (or add an endpoint).",
    ]);
  });
});

describe("diagnostic-settings-present", () => {
  const namespace = resource("azure-native:eventhub:Namespace", "ns");
  const registry = resource("azure-native:containerregistry:Registry", "cr");
  const setting = (target: PolicyResource) => resource("azure-native:monitor:DiagnosticSetting", `diag-${target.name}`, {}, { resourceUri: [target] });

  it("passes a stack with no diagnostics at all, and one that covers everything", async () => {
    expect(await violations("diagnostic-settings-present", [namespace, registry])).toEqual([]);
    expect(await violations("diagnostic-settings-present", [namespace, registry, setting(namespace), setting(registry)])).toEqual([]);
  });

  it("reports a service left out", async () => {
    expect(await violations("diagnostic-settings-present", [namespace, registry, setting(namespace)])).toEqual([
      "cr (azure-native:containerregistry:Registry) has no diagnostic setting while the stack's other resources do.",
    ]);
  });
});
