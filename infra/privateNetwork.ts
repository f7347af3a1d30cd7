import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import { ENVIRONMENT_SUBNET_DELEGATION } from "./networkRules";

/**
 * What each private endpoint connects to: its sub-resource (group id) and the privatelink DNS zone its address is
 * published in. Microsoft Learn, "Azure Private Endpoint private DNS zone values" (private-link/private-endpoint-dns):
 * Event Hubs namespace -> namespace, privatelink.servicebus.windows.net; Storage blob -> blob,
 * privatelink.blob.core.windows.net; Container Registry -> registry, privatelink.azurecr.io (Premium registries
 * only); Azure OpenAI -> account, privatelink.openai.azure.com.
 */
export const PRIVATE_LINK_TARGETS = {
  namespace: { groupId: "namespace", zone: "privatelink.servicebus.windows.net" },
  blob: { groupId: "blob", zone: "privatelink.blob.core.windows.net" },
  registry: { groupId: "registry", zone: "privatelink.azurecr.io" },
  openAi: { groupId: "account", zone: "privatelink.openai.azure.com" },
} as const;
export type PrivateLinkTarget = keyof typeof PRIVATE_LINK_TARGETS;

export interface PrivateNetworkArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Created with `addressPrefixes` when absent. */
  existingNetworkId?: string;
  networkName: string;
  addressPrefixes: readonly string[];
  environmentSubnetPrefix: string;
  privateEndpointSubnetPrefix: string;
  /** The Container Apps environment joins the network: its subnet is delegated to it. */
  hostsEnvironment: boolean;
  /** One privatelink zone (linked to the network) per target. */
  targets: readonly PrivateLinkTarget[];
  tags: Record<string, string>;
}

/** `/subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>` apart. */
function networkIdParts(id: string): { resourceGroupName: string; name: string } {
  const parts = id.split("/");
  return { resourceGroupName: parts[4]!, name: parts[8]! };
}

/**
 * The stack's virtual network (or its subnets in an existing one), with one subnet for the Container Apps
 * environment and one for private endpoints, and the privatelink DNS zones, each linked to the network so
 * everything in it resolves the services' usual names to their private addresses.
 */
export class PrivateNetwork extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>;
  readonly environmentSubnetId: pulumi.Output<string> | undefined;
  readonly privateEndpointSubnetId: pulumi.Output<string>;
  private readonly zones = new Map<PrivateLinkTarget, privatedns.PrivateZone>();

  constructor(
    private readonly baseName: string,
    private readonly args: PrivateNetworkArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("aiworkers:infra:PrivateNetwork", baseName, {}, opts);
    const name = baseName;
    const where = args.existingNetworkId === undefined ? undefined : networkIdParts(args.existingNetworkId);
    const created =
      where === undefined
        ? new network.VirtualNetwork(
            name,
            {
              resourceGroupName: args.resourceGroupName,
              location: args.location,
              virtualNetworkName: args.networkName,
              addressSpace: { addressPrefixes: [...args.addressPrefixes] },
              tags: args.tags,
            },
            // Subnets are their own resources below (as in an existing network); without this, an update of the
            // network would try to remove them.
            { parent: this, ignoreChanges: ["subnets"] },
          )
        : undefined;
    const subnetIn = { resourceGroupName: where?.resourceGroupName ?? args.resourceGroupName, virtualNetworkName: where?.name ?? created!.name };

    const endpointSubnet = new network.Subnet(
      `${name}-endpoints`,
      {
        ...subnetIn,
        subnetName: "snet-private-endpoints",
        addressPrefix: args.privateEndpointSubnetPrefix,
        privateEndpointNetworkPolicies: network.VirtualNetworkPrivateEndpointNetworkPolicies.Disabled,
        defaultOutboundAccess: false,
      },
      { parent: this },
    );
    this.privateEndpointSubnetId = endpointSubnet.id;
    // Azure updates a network's subnets one at a time: the second waits for the first.
    this.environmentSubnetId = args.hostsEnvironment
      ? new network.Subnet(
          `${name}-environment`,
          {
            ...subnetIn,
            subnetName: "snet-container-apps",
            addressPrefix: args.environmentSubnetPrefix,
            delegations: [{ name: "container-apps", serviceName: ENVIRONMENT_SUBNET_DELEGATION }],
          },
          { parent: this, dependsOn: [endpointSubnet] },
        ).id
      : undefined;
    this.networkId = created?.id ?? pulumi.output(args.existingNetworkId!);

    for (const target of args.targets) {
      const zoneName = PRIVATE_LINK_TARGETS[target].zone;
      const zone = new privatedns.PrivateZone(
        `${name}-${target}-zone`,
        { resourceGroupName: args.resourceGroupName, location: "global", privateZoneName: zoneName, tags: args.tags },
        { parent: this },
      );
      new privatedns.VirtualNetworkLink(
        `${name}-${target}-link`,
        {
          resourceGroupName: args.resourceGroupName,
          location: "global",
          privateZoneName: zone.name,
          virtualNetworkLinkName: `link-${args.networkName}`,
          virtualNetwork: { id: this.networkId },
          // The endpoints' records come from their DNS zone groups; nothing registers itself.
          registrationEnabled: false,
          tags: args.tags,
        },
        { parent: this },
      );
      this.zones.set(target, zone);
    }
    this.registerOutputs({
      networkId: this.networkId,
      environmentSubnetId: this.environmentSubnetId,
      privateEndpointSubnetId: this.privateEndpointSubnetId,
    });
  }

  /**
   * A private endpoint for `resourceId` in the endpoint subnet, and the DNS zone group that writes its address
   * into the target's privatelink zone.
   */
  endpoint(target: PrivateLinkTarget, resourceId: pulumi.Input<string>, endpointName: pulumi.Input<string>): network.PrivateEndpoint {
    const zone = this.zones.get(target);
    if (!zone) throw new Error(`the private network has no DNS zone for ${target}: list it in targets`);
    const { groupId } = PRIVATE_LINK_TARGETS[target];
    const resourceName = `${this.baseName}-${target}-endpoint`;
    const endpoint = new network.PrivateEndpoint(
      resourceName,
      {
        resourceGroupName: this.args.resourceGroupName,
        location: this.args.location,
        privateEndpointName: endpointName,
        subnet: { id: this.privateEndpointSubnetId },
        privateLinkServiceConnections: [{ name: groupId, privateLinkServiceId: resourceId, groupIds: [groupId] }],
        tags: this.args.tags,
      },
      { parent: this },
    );
    new network.PrivateDnsZoneGroup(
      `${resourceName}-dns`,
      {
        resourceGroupName: this.args.resourceGroupName,
        privateEndpointName: endpoint.name,
        privateDnsZoneGroupName: "default",
        privateDnsZoneConfigs: [{ name: zone.name.apply((z) => z.replace(/\./g, "-")), privateDnsZoneId: zone.id }],
      },
      { parent: this },
    );
    return endpoint;
  }
}
