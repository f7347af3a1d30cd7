import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";

/**
 * Diagnostic settings as Azure Verified Modules set them by default: every log through the `allLogs` category
 * group and every metric through `AllMetrics`, into resource-specific tables ("Dedicated") of one Log Analytics
 * workspace. Sources: Microsoft Learn, "Diagnostic settings in Azure Monitor" (category groups allLogs and audit)
 * and the supported-logs pages of each resource type; AVM's event-hub/namespace and storage-account modules
 * (logCategoriesAndGroups [allLogs], metricCategories [AllMetrics]).
 */
export const ALL_LOGS = "allLogs";
export const ALL_METRICS = "AllMetrics";

/** The one name each resource's setting has, so a person finds it in the portal. */
export const DIAGNOSTIC_SETTING_NAME = "to-log-analytics";

export interface DiagnosedResource {
  /** Pulumi resource name of the setting. */
  name: string;
  resourceUri: pulumi.Input<string>;
  /**
   * false for a Container Apps environment: its console and system logs already go to Log Analytics through
   * its own log destination (ContainerAppConsoleLogs_CL, ContainerAppSystemLogs_CL); a diagnostic setting carries
   * them only when that destination is azure-monitor, and would move them to other tables.
   */
  logs: boolean;
}

export interface DiagnosticSettingsArgs {
  workspaceId: pulumi.Input<string>;
  resources: readonly DiagnosedResource[];
}

/** One diagnostic setting per resource, all to the same workspace. */
export class DiagnosticSettings extends pulumi.ComponentResource {
  constructor(name: string, args: DiagnosticSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:DiagnosticSettings", name, {}, opts);
    for (const resource of args.resources) {
      new monitor.DiagnosticSetting(
        resource.name,
        {
          name: DIAGNOSTIC_SETTING_NAME,
          resourceUri: resource.resourceUri,
          workspaceId: args.workspaceId,
          logAnalyticsDestinationType: "Dedicated",
          logs: resource.logs ? [{ categoryGroup: ALL_LOGS, enabled: true }] : [],
          metrics: [{ category: ALL_METRICS, enabled: true }],
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
