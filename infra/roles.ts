import * as pulumi from "@pulumi/pulumi";

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
