import * as pulumi from "@pulumi/pulumi";
import * as storage from "@pulumi/azure-native/storage";
import { checkpointContainerName, DEAD_LETTER_CONTAINER } from "../common/names";

export interface CheckpointStorageArgs {
  resourceGroupName: pulumi.Input<string>;
  /** Same region as the namespace, as Microsoft's checkpoint-store guidance asks. */
  location: pulumi.Input<string>;
  accountName: pulumi.Input<string>;
  sku: storage.SkuName;
  /** One checkpoint container is created per consumer group. */
  consumerGroups: readonly string[];
  publicNetworkAccess: storage.PublicNetworkAccess;
  /** Entra ID mode: shared keys off, so no connection string exists. */
  disableSharedKey: boolean;
  /** A container for Event Hubs capture (Avro files), written by the namespace's identity. */
  captureContainer: boolean;
  tags: Record<string, string>;
}

/** Where capture writes, beside the checkpoints and dead letters (names cannot clash: checkpoint containers start with checkpoints-). */
export const CAPTURE_CONTAINER = "capture";

export interface StorageContainer {
  /** Known before deployment, for naming things after the container. */
  containerName: string;
  name: pulumi.Output<string>;
  /** Resource id, usable as a role assignment scope. */
  id: pulumi.Output<string>;
}

/**
 * A storage account used only for checkpoints, ownership records and dead letters. Per Microsoft's
 * checkpoint-store guidance: general-purpose v2, no hierarchical namespace, and no soft delete or
 * versioning (the processor overwrites the same blobs constantly; both would pile up copies and slow
 * listing down).
 */
export class CheckpointStorage extends pulumi.ComponentResource {
  readonly accountName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  /** In consumer-group order; the first is the workers' container. */
  readonly checkpointContainers: StorageContainer[];
  readonly deadLetterContainer: StorageContainer;
  readonly captureContainer: StorageContainer | undefined;
  readonly id: pulumi.Output<string>;
  /** The blob service (`<account>/blobServices/default`): what blob diagnostics and private endpoints attach to. */
  readonly blobServiceId: pulumi.Output<string>;
  /** Account-key connection string, secret; absent when shared keys are disabled. */
  readonly connectionString: pulumi.Output<string> | undefined;

  constructor(name: string, args: CheckpointStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:CheckpointStorage", name, {}, opts);
    const account = new storage.StorageAccount(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: args.accountName,
        kind: storage.Kind.StorageV2,
        sku: { name: args.sku },
        accessTier: storage.AccessTier.Hot,
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
        allowBlobPublicAccess: false,
        isHnsEnabled: false,
        allowSharedKeyAccess: !args.disableSharedKey,
        defaultToOAuthAuthentication: args.disableSharedKey,
        allowCrossTenantReplication: false,
        publicNetworkAccess: args.publicNetworkAccess,
        tags: args.tags,
      },
      { parent: this },
    );

    const blobService = new storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: account.name,
        blobServicesName: "default",
        deleteRetentionPolicy: { enabled: false },
        containerDeleteRetentionPolicy: { enabled: false },
        isVersioningEnabled: false,
      },
      { parent: this },
    );

    const container = (resourceName: string, containerName: string): StorageContainer => {
      const created = new storage.BlobContainer(
        resourceName,
        {
          resourceGroupName: args.resourceGroupName,
          accountName: account.name,
          containerName,
          publicAccess: storage.PublicAccess.None,
        },
        // After the service settings: ARM rejects container writes while they are being updated.
        { parent: this, dependsOn: [blobService] },
      );
      return { containerName, name: created.name, id: created.id };
    };
    this.checkpointContainers = args.consumerGroups.map((group) => {
      const containerName = checkpointContainerName(group);
      return container(`${name}-${containerName}`, containerName);
    });
    this.deadLetterContainer = container(`${name}-${DEAD_LETTER_CONTAINER}`, DEAD_LETTER_CONTAINER);
    this.captureContainer = args.captureContainer ? container(`${name}-${CAPTURE_CONTAINER}`, CAPTURE_CONTAINER) : undefined;
    this.id = account.id;
    this.blobServiceId = blobService.id;

    this.accountName = account.name;
    this.blobEndpoint = account.primaryEndpoints.blob;
    this.connectionString = args.disableSharedKey ? undefined : this.keyConnectionString(args, account);

    this.registerOutputs({
      accountName: this.accountName,
      blobEndpoint: this.blobEndpoint,
      checkpointContainerNames: this.checkpointContainers.map((c) => c.name),
      deadLetterContainerName: this.deadLetterContainer.name,
      connectionString: this.connectionString,
    });
  }

  private keyConnectionString(args: CheckpointStorageArgs, account: storage.StorageAccount): pulumi.Output<string> {
    const keys = storage.listStorageAccountKeysOutput(
      { resourceGroupName: args.resourceGroupName, accountName: account.name },
      { parent: this },
    );
    const primaryKey = keys.keys.apply((list) => {
      const first = list[0];
      if (!first) throw new Error("the storage account returned no access keys");
      return first.value;
    });
    // BlobEndpoint (rather than EndpointSuffix) keeps the string right in sovereign clouds too.
    return pulumi.secret(
      pulumi.interpolate`DefaultEndpointsProtocol=https;AccountName=${account.name};AccountKey=${primaryKey};BlobEndpoint=${account.primaryEndpoints.blob}`,
    );
  }
}
