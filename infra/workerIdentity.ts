import * as pulumi from "@pulumi/pulumi";
import type * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { WorkerRoleAssignments } from "./workerRoleAssignments";

export interface WorkerIdentityArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  identityName: string;
  subscriptionId: pulumi.Input<string>;
  eventHubId: pulumi.Input<string>;
  containers: readonly { containerName: string; id: pulumi.Input<string> }[];
  registryId: pulumi.Input<string>;
  /** The stack's Azure OpenAI account, when it creates one: the identity may call its deployments. */
  openAiAccountId?: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * The hosted workers' user-assigned managed identity and its grants. User-assigned rather than the app's
 * system identity so it exists, with its roles, before the app does: the first revision can pull its image
 * and read the hub at once, and KEDA's scale rule can name it.
 */
export class WorkerIdentity extends pulumi.ComponentResource {
  /** Resource id: what the app, its registry entry and its scale rule refer to. */
  readonly id: pulumi.Output<string>;
  /** What DefaultAzureCredential needs (AZURE_CLIENT_ID) to pick this identity. */
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  /** The app depends on these: without them its first revision cannot pull or read. */
  readonly grants: authorization.RoleAssignment[];

  constructor(name: string, args: WorkerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerIdentity", name, {}, opts);
    const identity = new managedidentity.UserAssignedIdentity(
      name,
      { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: args.identityName, tags: args.tags },
      { parent: this },
    );
    const roles = new WorkerRoleAssignments(
      `${name}-roles`,
      {
        subscriptionId: args.subscriptionId,
        principalId: identity.principalId,
        eventHubId: args.eventHubId,
        containers: args.containers,
        registryId: args.registryId,
        openAiAccountId: args.openAiAccountId,
      },
      { parent: this },
    );
    this.id = identity.id;
    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.grants = roles.assignments;
    this.registerOutputs({ id: this.id, clientId: this.clientId, principalId: this.principalId });
  }
}
