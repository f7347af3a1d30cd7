import * as pulumi from "@pulumi/pulumi";
import * as cognitiveservices from "@pulumi/azure-native/cognitiveservices";
import type { CreatedDeployment } from "./modelConfig";

export interface OpenAiAccountArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Globally unique: it is the custom subdomain too. */
  accountName: pulumi.Input<string>;
  publicNetworkAccess: cognitiveservices.PublicNetworkAccess;
  deployments: readonly CreatedDeployment[];
  tags: Record<string, string>;
}

/**
 * An Azure OpenAI account and the model deployments the workers call. Entra ID only: local (key) auth is off, so
 * access is the Cognitive Services OpenAI User role and nothing else; the custom subdomain is what Entra ID token
 * authentication needs. Deployments are written one after another: Azure rejects concurrent deployment writes on
 * one account.
 */
export class OpenAiAccount extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  /** `https://<subdomain>.openai.azure.com/`, as the worker takes it. */
  readonly endpoint: pulumi.Output<string>;
  readonly deploymentNames: pulumi.Output<string>[];
  /** What must exist before a worker can call them. */
  readonly deployments: cognitiveservices.Deployment[];

  constructor(name: string, args: OpenAiAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:OpenAiAccount", name, {}, opts);
    const account = new cognitiveservices.Account(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: args.accountName,
        kind: "OpenAI",
        sku: { name: "S0" },
        properties: {
          customSubDomainName: args.accountName,
          disableLocalAuth: true,
          publicNetworkAccess: args.publicNetworkAccess,
        },
        tags: args.tags,
      },
      { parent: this },
    );

    this.deployments = [];
    for (const deployment of args.deployments) {
      const previous = this.deployments.at(-1);
      this.deployments.push(
        new cognitiveservices.Deployment(
          `${name}-${deployment.name}`,
          {
            resourceGroupName: args.resourceGroupName,
            accountName: account.name,
            deploymentName: deployment.name,
            sku: { name: deployment.sku, capacity: deployment.capacity },
            properties: {
              model: { format: "OpenAI", name: deployment.model, version: deployment.version },
              // The configured version stays until Azure retires it, then moves on rather than stopping.
              versionUpgradeOption: cognitiveservices.DeploymentModelVersionUpgradeOption.OnceCurrentVersionExpired,
            },
          },
          { parent: this, dependsOn: previous ? [previous] : [] },
        ),
      );
    }

    this.id = account.id;
    this.name = account.name;
    this.endpoint = account.properties.endpoint;
    this.deploymentNames = this.deployments.map((d) => d.name);
    this.registerOutputs({ id: this.id, name: this.name, endpoint: this.endpoint, deploymentNames: this.deploymentNames });
  }
}
