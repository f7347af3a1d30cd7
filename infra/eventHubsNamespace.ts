import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
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
  /** Fixed at creation: sent only when on, so existing namespaces see no change. */
  zoneRedundant: boolean;
  /** A system-assigned identity, for capture to write to storage with Entra ID. */
  managedIdentity: boolean;
  /** A CanNotDelete lock on the namespace. */
  lock: boolean;
  /** Pair with this namespace (same tier, another region) as geo-disaster recovery, behind the alias `<namespace>-geo`. */
  geoDrPartnerNamespaceId?: string;
  tags: Record<string, string>;
}

/** The geo-DR alias: a DNS name of its own (`<alias>.servicebus.windows.net`) that follows the primary. */
export const GEO_DR_ALIAS_SUFFIX = "-geo";

/** The Event Hubs namespace: tier, capacity and the security baseline every hub in it inherits. */
export class EventHubsNamespace extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  /** `<namespace>.servicebus.windows.net` (or the sovereign cloud's equivalent). */
  readonly fullyQualifiedNamespace: pulumi.Output<string>;
  readonly id: pulumi.Output<string>;
  /** The system-assigned identity's object id; undefined without `managedIdentity`. */
  readonly principalId: pulumi.Output<string> | undefined;

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
        zoneRedundant: args.zoneRedundant ? true : undefined,
        identity: args.managedIdentity ? { type: eventhub.ManagedServiceIdentityType.SystemAssigned } : undefined,
        tags: args.tags,
      },
      { parent: this },
    );
    if (args.lock) {
      new authorization.ManagementLockByScope(
        `${name}-lock`,
        {
          scope: namespace.id,
          level: authorization.LockLevel.CanNotDelete,
          lockName: "do-not-delete",
          notes: "The event hubs and their unread events live here; remove this lock (namespaceLock false) before deleting.",
        },
        { parent: this },
      );
    }
    if (args.geoDrPartnerNamespaceId !== undefined) {
      new eventhub.DisasterRecoveryConfig(
        `${name}-geo-dr`,
        {
          resourceGroupName: args.resourceGroupName,
          namespaceName: namespace.name,
          alias: pulumi.interpolate`${namespace.name}${GEO_DR_ALIAS_SUFFIX}`,
          partnerNamespace: args.geoDrPartnerNamespaceId,
        },
        { parent: this },
      );
    }
    this.name = namespace.name;
    this.id = namespace.id;
    this.principalId = args.managedIdentity ? namespace.identity.apply((identity) => identity?.principalId ?? "") : undefined;
    // The service endpoint reads https://<fqdn>:443/; the SDKs want the bare host name.
    this.fullyQualifiedNamespace = namespace.serviceBusEndpoint.apply((endpoint) => new URL(endpoint).hostname);
    this.registerOutputs({ name: this.name, fullyQualifiedNamespace: this.fullyQualifiedNamespace });
  }
}
