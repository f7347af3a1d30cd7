import * as pulumi from "@pulumi/pulumi";
import * as containerregistry from "@pulumi/azure-native/containerregistry";

export interface WorkerRegistryArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  registryName: pulumi.Input<string>;
  /** Basic holds 10 GiB, plenty for one worker image and its history; Premium is the tier with private endpoints. */
  sku: containerregistry.SkuName;
  /** Disabled with private networking: pulls and pushes then go through the registry's private endpoint. */
  publicNetworkAccess: containerregistry.PublicNetworkAccess;
  tags: Record<string, string>;
}

/**
 * The container registry the worker image lives in. No admin user and no anonymous pull: the app pulls
 * with its managed identity (AcrPull), CI pushes with its own Entra ID login (`az acr login`).
 */
export class WorkerRegistry extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly id: pulumi.Output<string>;
  /** `<name>.azurecr.io`: the prefix of every image reference in it. */
  readonly loginServer: pulumi.Output<string>;

  constructor(name: string, args: WorkerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerRegistry", name, {}, opts);
    const registry = new containerregistry.Registry(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        registryName: args.registryName,
        sku: { name: args.sku },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        publicNetworkAccess: args.publicNetworkAccess,
        tags: args.tags,
      },
      { parent: this },
    );
    this.name = registry.name;
    this.id = registry.id;
    this.loginServer = registry.loginServer;
    this.registerOutputs({ name: this.name, loginServer: this.loginServer });
  }
}
