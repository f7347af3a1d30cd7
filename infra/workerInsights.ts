import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";

export interface WorkerInsightsArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  componentName: string;
  /** The Log Analytics workspace the environment already ships logs to: traces land next to them. */
  workspaceId: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * Application Insights for the workers' traces and metrics (workspace-based: the classic kind is retired). The
 * worker's Azure Monitor distro reads APPLICATIONINSIGHTS_CONNECTION_STRING.
 */
export class WorkerInsights extends pulumi.ComponentResource {
  /** Secret: with local authentication enabled its instrumentation key is enough to send telemetry. */
  readonly connectionString: pulumi.Output<string>;

  constructor(name: string, args: WorkerInsightsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerInsights", name, {}, opts);
    const component = new applicationinsights.Component(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        resourceName: args.componentName,
        kind: "other",
        applicationType: applicationinsights.ApplicationType.Other,
        workspaceResourceId: args.workspaceId,
        ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
        tags: args.tags,
      },
      { parent: this, additionalSecretOutputs: ["connectionString", "instrumentationKey"] },
    );
    this.connectionString = pulumi.secret(component.connectionString);
    this.registerOutputs({ connectionString: this.connectionString });
  }
}
