import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";

export interface ResourceGroupArgs {
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
}

/** The resource group that holds everything this stack creates. */
export class ResourceGroup extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly location: pulumi.Output<string>;

  constructor(name: string, args: ResourceGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:ResourceGroup", name, {}, opts);
    const group = new resources.ResourceGroup(
      name,
      { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );
    this.name = group.name;
    this.location = group.location;
    this.registerOutputs({ name: this.name, location: this.location });
  }
}
