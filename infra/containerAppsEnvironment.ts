import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";

export interface ContainerAppsEnvironmentArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  workspaceName: string;
  environmentName: string;
  /**
   * The infrastructure subnet (delegated to Microsoft.App/environments) when the environment joins a network:
   * internal, no public address. Fixed at creation: Azure cannot move an environment into a network.
   */
  infrastructureSubnetId?: pulumi.Input<string>;
  tags: Record<string, string>;
}

/** The Consumption workload profile every app of the environment runs on (billed per replica-second). */
export const CONSUMPTION_PROFILE = "Consumption";

/**
 * Where the workers run: a Container Apps environment (workload-profiles type, Consumption profile) whose
 * console and system logs go to its own Log Analytics workspace.
 */
export class ContainerAppsEnvironment extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  readonly workspaceName: pulumi.Output<string>;
  readonly workspaceId: pulumi.Output<string>;

  constructor(name: string, args: ContainerAppsEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:ContainerAppsEnvironment", name, {}, opts);
    const workspace = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        workspaceName: args.workspaceName,
        sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
        retentionInDays: 30,
        tags: args.tags,
      },
      { parent: this },
    );
    // The environment authenticates its log shipping with the workspace key; it comes back as plain text.
    const keys = operationalinsights.getSharedKeysOutput(
      { resourceGroupName: args.resourceGroupName, workspaceName: workspace.name },
      { parent: this },
    );
    const environment = new app.ManagedEnvironment(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentName: args.environmentName,
        workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
        vnetConfiguration:
          args.infrastructureSubnetId === undefined ? undefined : { infrastructureSubnetId: args.infrastructureSubnetId, internal: true },
        appLogsConfiguration: {
          destination: "log-analytics",
          logAnalyticsConfiguration: {
            customerId: workspace.customerId,
            sharedKey: pulumi.secret(keys.primarySharedKey),
          },
        },
        tags: args.tags,
      },
      { parent: this },
    );
    this.id = environment.id;
    this.name = environment.name;
    this.workspaceName = workspace.name;
    this.workspaceId = workspace.id;
    this.registerOutputs({ id: this.id, name: this.name, workspaceName: this.workspaceName, workspaceId: this.workspaceId });
  }
}
