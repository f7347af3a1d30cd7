import * as pulumi from "@pulumi/pulumi";
import * as eventhub from "@pulumi/azure-native/eventhub";

export interface HubAccessRulesArgs {
  resourceGroupName: pulumi.Input<string>;
  namespaceName: pulumi.Input<string>;
  eventHubName: pulumi.Input<string>;
}

/** Rule names; each hub has its own pair, so a leaked key exposes one hub and one right only. */
export const LISTEN_RULE_NAME = "workers-listen";
export const SEND_RULE_NAME = "producers-send";

/**
 * SAS access scoped to one event hub: Listen for the workers, Send for producers. Applications never
 * get the namespace's RootManageSharedAccessKey, which could manage and delete every hub.
 */
export class HubAccessRules extends pulumi.ComponentResource {
  /** Listen-only connection string (includes EntityPath): what the workers use. Secret. */
  readonly listenConnectionString: pulumi.Output<string>;
  /** Send-only connection string (includes EntityPath) for producers. Secret. */
  readonly sendConnectionString: pulumi.Output<string>;

  constructor(name: string, args: HubAccessRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:HubAccessRules", name, {}, opts);
    this.listenConnectionString = this.rule(`${name}-listen`, LISTEN_RULE_NAME, eventhub.AccessRights.Listen, args);
    this.sendConnectionString = this.rule(`${name}-send`, SEND_RULE_NAME, eventhub.AccessRights.Send, args);
    this.registerOutputs({
      listenConnectionString: this.listenConnectionString,
      sendConnectionString: this.sendConnectionString,
    });
  }

  /** Creates one hub-scoped rule and returns its primary connection string as a secret. */
  private rule(
    resourceName: string,
    ruleName: string,
    right: eventhub.AccessRights,
    args: HubAccessRulesArgs,
  ): pulumi.Output<string> {
    const rule = new eventhub.EventHubAuthorizationRule(
      resourceName,
      {
        resourceGroupName: args.resourceGroupName,
        namespaceName: args.namespaceName,
        eventHubName: args.eventHubName,
        authorizationRuleName: ruleName,
        rights: [right],
      },
      { parent: this },
    );
    // Keys come back as plain values: wrap them so they are encrypted in state and masked in logs.
    const keys = eventhub.listEventHubKeysOutput(
      {
        resourceGroupName: args.resourceGroupName,
        namespaceName: args.namespaceName,
        eventHubName: args.eventHubName,
        authorizationRuleName: rule.name,
      },
      { parent: this },
    );
    return pulumi.secret(keys.primaryConnectionString);
  }
}
