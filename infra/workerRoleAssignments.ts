import * as pulumi from "@pulumi/pulumi";
import type * as authorization from "@pulumi/azure-native/authorization";
import { assignRole, BUILT_IN_ROLES } from "./roles";

export interface WorkerRoleAssignmentsArgs {
  subscriptionId: pulumi.Input<string>;
  /** Object id of the workers' managed identity or service principal. */
  principalId: pulumi.Input<string>;
  /** The event hub the workers read. */
  eventHubId: pulumi.Input<string>;
  /** Checkpoint containers and the dead-letter container. */
  containers: readonly { containerName: string; id: pulumi.Input<string> }[];
  /** The registry the worker image is pulled from, when the stack hosts the worker. */
  registryId?: pulumi.Input<string>;
  /** The Azure OpenAI account whose deployments the workers call, when the stack creates one. */
  openAiAccountId?: pulumi.Input<string>;
}

/**
 * Entra ID access for the workers, each role on the narrowest scope that works: receive on the one
 * event hub, read/write blobs in the containers they use (not the whole account), pull from the one registry,
 * call the deployments of the one OpenAI account.
 */
export class WorkerRoleAssignments extends pulumi.ComponentResource {
  /** Everything that needs the access granted here depends on these. */
  readonly assignments: authorization.RoleAssignment[];

  constructor(name: string, args: WorkerRoleAssignmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerRoleAssignments", name, {}, opts);
    const assign = (resourceName: string, scope: pulumi.Input<string>, roleGuid: string) =>
      assignRole(resourceName, { subscriptionId: args.subscriptionId, scope, roleGuid, principalId: args.principalId }, { parent: this });

    this.assignments = [
      assign(`${name}-eventhub-receiver`, args.eventHubId, BUILT_IN_ROLES.eventHubsDataReceiver),
      ...args.containers.map((container) =>
        assign(`${name}-blob-contributor-${container.containerName}`, container.id, BUILT_IN_ROLES.storageBlobDataContributor),
      ),
      ...(args.registryId === undefined ? [] : [assign(`${name}-acr-pull`, args.registryId, BUILT_IN_ROLES.acrPull)]),
      ...(args.openAiAccountId === undefined
        ? []
        : [assign(`${name}-openai-user`, args.openAiAccountId, BUILT_IN_ROLES.cognitiveServicesOpenAiUser)]),
    ];
    this.registerOutputs({ roleAssignmentIds: this.assignments.map((a) => a.id) });
  }
}
