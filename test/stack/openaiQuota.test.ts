import { describe, expect, it } from "vitest";
import type { CreatedDeployment, ModelConfig } from "../../infra/modelConfig";
import {
  DEPLOYMENT_SKUS,
  deploymentQuota,
  fitsSteps,
  isProvisioned,
  PROVISIONED_SKUS,
  provisionedSteps,
  STANDARD_SKUS,
  standardUnitRate,
  UNCALLABLE_SKUS,
} from "../../infra/openaiQuota";
import { REPLICA_REQUESTS_PER_SECOND, workerScale } from "../../infra/workerScale";

/** The quota table (Microsoft's figures, one place) and the replica ceiling derived from it. */

describe("rate per capacity unit of a standard deployment", () => {
  it.each([
    ["gpt-4o-mini", 6, 1_000],
    ["GPT-4o", 6, 1_000],
    ["gpt-35-turbo", 6, 1_000],
    ["text-embedding-3-small", 6, 1_000],
    ["text-embedding-ada-002", 6, 1_000],
    ["gpt-4.1-mini", 1, 1_000],
    ["o1", 1, 6_000],
    ["o1-mini", 1, 10_000],
    ["o3-mini", 1, 10_000],
    ["o3-pro", 1, 10_000],
    ["o3", 1, 1_000],
    ["o4-mini", 1, 1_000],
  ])("%s: %i RPM and %i TPM per unit", (model, requestsPerMinute, tokensPerMinute) => {
    expect(standardUnitRate(model)).toEqual({ requestsPerMinute, tokensPerMinute });
  });

  it("knows no rate for a model outside Microsoft's table (the worker then learns it from 429s)", () => {
    expect(standardUnitRate("gpt-5")).toBeUndefined();
    expect(standardUnitRate("gpt-35-turbo-instruct")).toBeUndefined(); // a completions model: the worker cannot call it
  });

  it("multiplies the rate by the capacity for the whole fleet, and gives provisioned deployments none", () => {
    expect(deploymentQuota("gpt-4o-mini", "GlobalStandard", 30)).toEqual({ requestsPerMinute: 180, tokensPerMinute: 30_000 });
    expect(deploymentQuota("o3-mini", "DataZoneStandard", 50)).toEqual({ requestsPerMinute: 50, tokensPerMinute: 500_000 });
    for (const sku of PROVISIONED_SKUS) expect(deploymentQuota("gpt-4o", sku, 50), sku).toBeUndefined();
  });
});

describe("deployment types", () => {
  it("are standard or provisioned, and the ones the worker cannot call are not among them", () => {
    expect([...STANDARD_SKUS, ...PROVISIONED_SKUS].sort()).toEqual([...DEPLOYMENT_SKUS].sort());
    expect(DEPLOYMENT_SKUS.filter(isProvisioned)).toEqual([...PROVISIONED_SKUS]);
    for (const sku of Object.keys(UNCALLABLE_SKUS)) expect(DEPLOYMENT_SKUS).not.toContain(sku);
  });

  it.each([
    ["gpt-4o", "GlobalProvisionedManaged", [15, 20, 100], [5, 10, 17, 22]],
    ["gpt-4o-mini", "DataZoneProvisionedManaged", [15, 25], [14, 16]],
    ["gpt-4o", "ProvisionedManaged", [50, 100, 150], [15, 25, 75]],
    ["gpt-4o-mini", "ProvisionedManaged", [25, 50, 75], [15, 30]],
    ["o1", "ProvisionedManaged", [25, 75, 125], [50, 100]],
    ["gpt-5", "ProvisionedManaged", [50, 100], [25]],
  ] as const)("provisioned %s (%s) takes %j, not %j", (model, sku, fits, misses) => {
    const steps = provisionedSteps(model, sku)!;
    for (const capacity of fits) expect(fitsSteps(capacity, steps), String(capacity)).toBe(true);
    for (const capacity of misses) expect(fitsSteps(capacity, steps), String(capacity)).toBe(false);
  });

  it("has no provisioned sizes for models Microsoft's PTU table does not list", () => {
    expect(provisionedSteps("text-embedding-3-small", "GlobalProvisionedManaged")).toBeUndefined();
  });
});

const deployment = (changes: Partial<CreatedDeployment>): CreatedDeployment => ({
  name: "primary",
  model: "gpt-4o-mini",
  version: "2024-07-18",
  sku: "GlobalStandard",
  capacity: 30,
  priority: 0,
  weight: 1,
  ...changes,
});
const modelOf = (deployments: CreatedDeployment[], existing: ModelConfig["existing"] = []): ModelConfig => ({ task: "chat", deployments, existing });
/** Capacity units of gpt-4o-mini (6 RPM each) that make `perSecond` requests per second. */
const unitsFor = (perSecond: number) => (perSecond * 60) / 6;

describe("the worker's replica ceiling", () => {
  const scale = (model: ModelConfig | undefined, choices: { partitionCount?: number; minReplicas?: number; maxReplicas?: number } = {}) =>
    workerScale({ partitionCount: 32, minReplicas: 1, maxReplicas: 0, model, ...choices });

  it("is the partition count without a model", () => {
    expect(scale(undefined, { partitionCount: 12 })).toEqual({ maxReplicas: 12, quotaReplicas: undefined, warnings: [] });
  });

  it("is one replica per REPLICA_REQUESTS_PER_SECOND of summed quota, rounded up, at least one, at most the partitions", () => {
    expect(REPLICA_REQUESTS_PER_SECOND).toBe(95);
    expect(scale(modelOf([deployment({ capacity: 1 })])).maxReplicas).toBe(1); // 0.1 requests/s still needs a replica
    expect(scale(modelOf([deployment({ capacity: unitsFor(95) })])).maxReplicas).toBe(1);
    expect(scale(modelOf([deployment({ capacity: unitsFor(95) + 1 })])).maxReplicas).toBe(2);
    expect(scale(modelOf([deployment({ capacity: unitsFor(190) })])).maxReplicas).toBe(2);
    expect(scale(modelOf([deployment({ capacity: unitsFor(95 * 40) })]), { partitionCount: 32 })).toMatchObject({ maxReplicas: 32, quotaReplicas: 32 });
  });

  it("sums every deployment, created and existing", () => {
    const model = modelOf(
      [deployment({ capacity: unitsFor(100) }), deployment({ name: "spill", capacity: unitsFor(100) })],
      [{ name: "shared", endpoint: "https://x", deployment: "d", requestsPerMinute: 100 * 60, priority: 2, weight: 1 }],
    );
    expect(scale(model)).toEqual({ maxReplicas: 4, quotaReplicas: 4, warnings: [] }); // 300 requests/s
  });

  it("does not cap by quota when a deployment's rate is unknown (provisioned, or no requestsPerMinute), and says so", () => {
    const ptu = scale(modelOf([deployment({}), deployment({ name: "ptu", sku: "GlobalProvisionedManaged", capacity: 15 })]), { partitionCount: 8 });
    expect(ptu).toMatchObject({ maxReplicas: 8, quotaReplicas: undefined });
    expect(ptu.warnings).toEqual([expect.stringMatching(/^the model's quota does not cap the worker's replicas: ptu has no known requests per minute .* maxReplicas stays at partitionCount \(8\)/)]);
    const existing = scale(modelOf([], [{ name: "shared", endpoint: "https://x", deployment: "d", priority: 0, weight: 1 }]), { partitionCount: 8 });
    expect(existing).toMatchObject({ maxReplicas: 8, quotaReplicas: undefined });
  });

  it("warns of a model outside the quota table: the worker gets no limits for it", () => {
    const { warnings } = scale(modelOf([deployment({ model: "gpt-5", version: "2025-08-07" })]), { partitionCount: 4 });
    expect(warnings[0]).toMatch(/^model.deployments "primary": gpt-5 is not in the stack's quota table \(infra\/openaiQuota.ts\)/);
  });

  it("keeps workerMinReplicas when it is more than the quota feeds, and says so", () => {
    expect(scale(modelOf([deployment({})]), { minReplicas: 3 })).toEqual({
      maxReplicas: 3,
      quotaReplicas: 1,
      warnings: ["workerMinReplicas 3 keeps more replicas running than the 1 the model's quota keeps busy (3 requests/s in all, 95 requests/s per replica); maxReplicas is 3"],
    });
  });

  it("takes workerMaxReplicas as chosen, warning only when the quota cannot keep them busy", () => {
    expect(scale(modelOf([deployment({ capacity: unitsFor(300) })]), { maxReplicas: 4 })).toEqual({ maxReplicas: 4, quotaReplicas: 4, warnings: [] });
    expect(scale(modelOf([deployment({ capacity: unitsFor(300) })]), { maxReplicas: 2 })).toEqual({ maxReplicas: 2, quotaReplicas: 4, warnings: [] });
    expect(scale(modelOf([deployment({ capacity: unitsFor(300) })]), { maxReplicas: 5 }).warnings).toEqual([
      "workerMaxReplicas 5 is more than the 4 replica(s) the model's quota keeps busy (300 requests/s in all, 95 requests/s per replica): the others would wait on the quota",
    ]);
    expect(scale(undefined, { maxReplicas: 5, partitionCount: 8 })).toEqual({ maxReplicas: 5, quotaReplicas: undefined, warnings: [] });
  });
});
