import { beforeAll, describe, expect, it } from "vitest";
import { stableGuid } from "../../infra/stableGuid";
import { ofType, roleDefinitionIdOf, runProgram, single, stackConfig, type ProgramRun } from "./programHarness";

const PRINCIPAL = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const ROLE = {
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(stackConfig("dev", { disableLocalAuth: true, principalId: PRINCIPAL }));
});

describe("Entra ID mode (disableLocalAuth: true)", () => {
  it("turns SAS off on the namespace and shared keys off on the storage account", () => {
    expect(single(run, "azure-native:eventhub:Namespace").inputs.disableLocalAuth).toBe(true);
    expect(single(run, "azure-native:storage:StorageAccount").inputs).toMatchObject({
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
    });
  });

  it("creates no SAS rules and never lists a key", () => {
    expect(ofType(run, "azure-native:eventhub:EventHubAuthorizationRule")).toEqual([]);
    expect(run.calls.map((c) => c.token)).toEqual(["azure-native:authorization:getClientConfig"]);
  });

  it("exports no secrets and no connection strings, but every other output", () => {
    expect(run.secretOutputs.size).toBe(0);
    expect(run.outputs.connectionString).toBeUndefined();
    expect(run.outputs.producerConnectionString).toBeUndefined();
    expect(run.outputs.storageConnectionString).toBeUndefined();
    for (const name of ["fullyQualifiedNamespace", "eventHubName", "consumerGroupName", "blobEndpoint", "checkpointContainerName", "deadLetterContainerName"]) {
      expect(run.outputs[name], name).toEqual(expect.any(String));
    }
  });

  it("grants the principal Data Receiver on the hub and Blob Data Contributor on each container it uses", () => {
    const hubId = single(run, "azure-native:eventhub:EventHub").id;
    const containerIds = ofType(run, "azure-native:storage:BlobContainer").map((c) => c.id);
    expect(containerIds).toHaveLength(2);

    const grants = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.inputs);
    expect(grants.map((g) => [g.scope, g.roleDefinitionId]).sort()).toEqual(
      [
        [hubId, roleDefinitionIdOf(ROLE.eventHubsDataReceiver)],
        ...containerIds.map((id) => [id, roleDefinitionIdOf(ROLE.storageBlobDataContributor)]),
      ].sort(),
    );
    for (const grant of grants) {
      expect(grant.principalId).toBe(PRINCIPAL);
      expect(grant.principalType).toBe("ServicePrincipal");
    }
    // Narrowest scopes: the hub and the containers, never the namespace or the whole account.
    expect(grants.map((g) => g.scope as string).every((s) => /\/eventhubs\/events$|\/containers\/[a-z0-9-]+$/.test(s))).toBe(true);
  });

  it("names each assignment with a GUID derived from scope, role and principal", () => {
    const grants = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.inputs);
    for (const grant of grants) {
      expect(grant.roleAssignmentName).toMatch(GUID);
      const roleGuid = (grant.roleDefinitionId as string).split("/").pop()!;
      expect(grant.roleAssignmentName).toBe(stableGuid(grant.scope, roleGuid, PRINCIPAL));
    }
    expect(new Set(grants.map((g) => g.roleAssignmentName)).size).toBe(grants.length);
  });

  it("gives the same assignment names on every run, and covers every consumer group's container", async () => {
    const names = ofType(run, "azure-native:authorization:RoleAssignment").map((r) => r.inputs.roleAssignmentName).sort();
    const twoGroups = await runProgram(
      stackConfig("dev", { disableLocalAuth: true, principalId: PRINCIPAL, consumerGroups: ["ai-workers", "analytics"] }),
    );
    const grants = ofType(twoGroups, "azure-native:authorization:RoleAssignment").map((r) => r.inputs);
    expect(grants).toHaveLength(4);
    expect(grants.map((g) => g.scope as string).filter((s) => s.endsWith("/containers/checkpoints-analytics"))).toHaveLength(1);
    // The three grants of the one-group stack are unchanged by adding a group.
    for (const name of names) expect(grants.map((g) => g.roleAssignmentName)).toContain(name);
  });
});

describe("stableGuid", () => {
  it("is a version 5 GUID that changes with any part and ignores case", () => {
    const base = stableGuid("/scope/a", "role", "principal");
    expect(base).toMatch(GUID);
    expect(stableGuid("/SCOPE/A", "role", "PRINCIPAL")).toBe(base);
    expect(stableGuid("/scope/b", "role", "principal")).not.toBe(base);
    expect(stableGuid("/scope/a", "role2", "principal")).not.toBe(base);
    expect(stableGuid("/scope/a", "role", "principal2")).not.toBe(base);
  });
});

describe("a principal in SAS mode", () => {
  it("gets the same role assignments while SAS outputs stay available", async () => {
    const both = await runProgram(stackConfig("dev", { principalId: PRINCIPAL }));
    expect(ofType(both, "azure-native:authorization:RoleAssignment")).toHaveLength(3);
    expect([...both.secretOutputs].sort()).toEqual(["connectionString", "producerConnectionString", "storageConnectionString"]);
  });
});
