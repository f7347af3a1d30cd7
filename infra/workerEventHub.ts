import * as pulumi from "@pulumi/pulumi";
import * as eventhub from "@pulumi/azure-native/eventhub";
import { checkpointContainerName, DEFAULT_CONSUMER_GROUP } from "../common/names";

export interface WorkerEventHubArgs {
  resourceGroupName: pulumi.Input<string>;
  namespaceName: pulumi.Input<string>;
  eventHubName: string;
  partitionCount: number;
  retentionHours: number;
  /** The first is the workers' group; `$Default` exists already and is not created. */
  consumerGroups: readonly string[];
  /** Written into each consumer group's user metadata so the portal tells who uses it. */
  owner: string;
  /** Capture every event as Avro into this container, written with the namespace's system-assigned identity. */
  capture?: { storageAccountId: pulumi.Input<string>; containerName: pulumi.Input<string>; dependsOn: readonly pulumi.Resource[] };
}

/**
 * Capture's windows: a file per partition every 5 minutes or 300 MiB, whichever comes first (Azure's defaults and
 * maximums: 60-900 s, 10-500 MiB); no file for a window without events.
 */
export const CAPTURE_INTERVAL_SECONDS = 300;
export const CAPTURE_SIZE_LIMIT_BYTES = 300 * 1024 * 1024;

/** The event hub the workers read, and their consumer groups. */
export class WorkerEventHub extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly id: pulumi.Output<string>;
  readonly partitionCount: pulumi.Output<number | undefined>;
  /** The workers' consumer group (the first configured). */
  readonly workerConsumerGroupName: pulumi.Output<string>;

  constructor(name: string, args: WorkerEventHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerEventHub", name, {}, opts);
    const hub = new eventhub.EventHub(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        namespaceName: args.namespaceName,
        eventHubName: args.eventHubName,
        partitionCount: args.partitionCount,
        // Retention in hours; messageRetentionInDays is the legacy form and must not be set with it.
        retentionDescription: { cleanupPolicy: "Delete", retentionTimeInHours: args.retentionHours },
        captureDescription: args.capture && {
          enabled: true,
          encoding: eventhub.EncodingCaptureDescription.Avro,
          intervalInSeconds: CAPTURE_INTERVAL_SECONDS,
          sizeLimitInBytes: CAPTURE_SIZE_LIMIT_BYTES,
          skipEmptyArchives: true,
          destination: {
            name: "EventHubArchive.AzureBlockBlob",
            storageAccountResourceId: args.capture.storageAccountId,
            blobContainer: args.capture.containerName,
            archiveNameFormat: "{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}",
            identity: { type: eventhub.CaptureIdentityType.SystemAssigned },
          },
        },
      },
      // Capture's first write needs the identity's role on the container.
      { parent: this, dependsOn: args.capture ? [...args.capture.dependsOn] : [] },
    );

    const groupNames = args.consumerGroups.map((group) => {
      if (group === DEFAULT_CONSUMER_GROUP) return pulumi.output(group);
      const consumerGroup = new eventhub.ConsumerGroup(
        `${name}-${group}`,
        {
          resourceGroupName: args.resourceGroupName,
          namespaceName: args.namespaceName,
          eventHubName: hub.name,
          consumerGroupName: group,
          userMetadata: `AI workers (${args.owner}); checkpoints in container ${checkpointContainerName(group)}`,
        },
        { parent: this },
      );
      return consumerGroup.name;
    });

    this.name = hub.name;
    this.id = hub.id;
    this.partitionCount = hub.partitionCount;
    this.workerConsumerGroupName = groupNames[0] ?? pulumi.output(DEFAULT_CONSUMER_GROUP);
    this.registerOutputs({
      name: this.name,
      partitionCount: this.partitionCount,
      consumerGroupNames: groupNames,
    });
  }
}
