import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { stableGuid } from "./stableGuid";

/** Built-in Azure role definition GUIDs (the same in every tenant). */
export const BUILT_IN_ROLES = {
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  /** Inference on an Azure OpenAI account's deployments with Entra ID; no keys, no management. */
  cognitiveServicesOpenAiUser: "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
} as const;

/** Role assignments take the role's full resource id, not its bare GUID. */
export function roleDefinitionId(subscriptionId: pulumi.Input<string>, roleGuid: string): pulumi.Output<string> {
  return pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

export interface RoleGrant {
  subscriptionId: pulumi.Input<string>;
  scope: pulumi.Input<string>;
  roleGuid: string;
  /** A managed identity's or service principal's object id. */
  principalId: pulumi.Input<string>;
}

/** One role on one scope for a workload identity, named by a GUID of scope, role and principal (stable across `up`s). */
export function assignRole(resourceName: string, grant: RoleGrant, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    resourceName,
    {
      roleAssignmentName: pulumi
        .all([grant.scope, grant.principalId])
        .apply(([id, principal]) => stableGuid(id, grant.roleGuid, principal)),
      scope: grant.scope,
      roleDefinitionId: roleDefinitionId(grant.subscriptionId, grant.roleGuid),
      principalId: grant.principalId,
      // Without this ARM assumes User and can fail on a freshly created managed identity.
      principalType: authorization.PrincipalType.ServicePrincipal,
    },
    opts,
  );
}
