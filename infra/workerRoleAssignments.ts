import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { BUILT_IN_ROLES, roleDefinitionId } from "./roles";
import { stableGuid } from "./stableGuid";

export interface WorkerRoleAssignmentsArgs {
  subscriptionId: pulumi.Input<string>;
  /** Object id of the workers' managed identity or service principal. */
  principalId: string;
  /** The event hub the workers read. */
  eventHubId: pulumi.Input<string>;
  /** Checkpoint containers and the dead-letter container. */
  containers: readonly { containerName: string; id: pulumi.Input<string> }[];
}

/**
 * Entra ID access for the workers, each role on the narrowest scope that works: receive on the one
 * event hub, read/write blobs in the containers they use (not the whole account).
 */
export class WorkerRoleAssignments extends pulumi.ComponentResource {
  constructor(name: string, args: WorkerRoleAssignmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerRoleAssignments", name, {}, opts);
    const assign = (resourceName: string, scope: pulumi.Input<string>, roleGuid: string) =>
      new authorization.RoleAssignment(
        resourceName,
        {
          // A GUID derived from scope, role and principal: the same on every `up`, unique per grant.
          roleAssignmentName: pulumi.output(scope).apply((id) => stableGuid(id, roleGuid, args.principalId)),
          scope,
          roleDefinitionId: roleDefinitionId(args.subscriptionId, roleGuid),
          principalId: args.principalId,
          // Without this ARM assumes User and can fail on a freshly created managed identity.
          principalType: authorization.PrincipalType.ServicePrincipal,
        },
        { parent: this },
      );

    const assignments = [
      assign(`${name}-eventhub-receiver`, args.eventHubId, BUILT_IN_ROLES.eventHubsDataReceiver),
      ...args.containers.map((container) =>
        assign(`${name}-blob-contributor-${container.containerName}`, container.id, BUILT_IN_ROLES.storageBlobDataContributor),
      ),
    ];
    this.registerOutputs({ roleAssignmentIds: assignments.map((a) => a.id) });
  }
}
