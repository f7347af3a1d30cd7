import * as pulumi from "@pulumi/pulumi";
import * as eventhub from "@pulumi/azure-native/eventhub";
import type { EventHubsSku } from "./tierLimits";

export interface EventHubsNamespaceArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  namespaceName: pulumi.Input<string>;
  sku: EventHubsSku;
  /** Throughput units (Basic/Standard) or processing units (Premium). */
  capacity: number;
  /** Standard only; `maximumThroughputUnits` is sent only when this is on. */
  autoInflate: boolean;
  autoInflateMaxThroughputUnits: number;
  publicNetworkAccess: eventhub.PublicNetworkAccess;
  /** Entra ID only: turns SAS (shared access key) authentication off. */
  disableLocalAuth: boolean;
  tags: Record<string, string>;
}

/** The Event Hubs namespace: tier, capacity and the security baseline every hub in it inherits. */
export class EventHubsNamespace extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  /** `<namespace>.servicebus.windows.net` (or the sovereign cloud's equivalent). */
  readonly fullyQualifiedNamespace: pulumi.Output<string>;

  constructor(name: string, args: EventHubsNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:EventHubsNamespace", name, {}, opts);
    const namespace = new eventhub.Namespace(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        namespaceName: args.namespaceName,
        sku: { name: args.sku, tier: args.sku, capacity: args.capacity },
        isAutoInflateEnabled: args.autoInflate,
        maximumThroughputUnits: args.autoInflate ? args.autoInflateMaxThroughputUnits : undefined,
        minimumTlsVersion: eventhub.TlsVersion.TlsVersion_1_2,
        publicNetworkAccess: args.publicNetworkAccess,
        disableLocalAuth: args.disableLocalAuth,
        tags: args.tags,
      },
      { parent: this },
    );
    this.name = namespace.name;
    // The service endpoint reads https://<fqdn>:443/; the SDKs want the bare host name.
    this.fullyQualifiedNamespace = namespace.serviceBusEndpoint.apply((endpoint) => new URL(endpoint).hostname);
    this.registerOutputs({ name: this.name, fullyQualifiedNamespace: this.fullyQualifiedNamespace });
  }
}
