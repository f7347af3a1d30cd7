import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import type * as inputs from "@pulumi/azure-native/types/input";
import { WORKER_METRICS_PORT } from "../common/names";
import type { WorkerEnvironment } from "../worker/config";

/** KEDA's defaults in Container Apps, set explicitly so docs/deploy.md and the app agree. */
export const SCALE_POLLING_INTERVAL_SECONDS = 30;
export const SCALE_COOLDOWN_SECONDS = 300;
/** Longer than the worker's SHUTDOWN_TIMEOUT_MS default (25 s): drain, checkpoint and release before SIGKILL. */
export const TERMINATION_GRACE_SECONDS = 30;
export const SCALE_RULE_NAME = "event-hub-lag";

export interface WorkerAppArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  containerAppName: string;
  environmentId: pulumi.Input<string>;
  workloadProfileName: string;
  /** Full image reference: `<login server>/<repository>:<tag>`. */
  image: pulumi.Input<string>;
  registryServer: pulumi.Input<string>;
  identity: { id: pulumi.Input<string>; clientId: pulumi.Input<string> };
  /** Role assignments the first revision needs (pull, receive, blobs): created before the app. */
  grants: readonly pulumi.Resource[];
  eventHub: {
    /** Bare namespace name, as KEDA's scaler takes it. */
    namespaceName: pulumi.Input<string>;
    /** `<namespace>.servicebus.windows.net`, as the worker takes it. */
    fullyQualifiedNamespace: pulumi.Input<string>;
    eventHubName: pulumi.Input<string>;
    consumerGroup: pulumi.Input<string>;
  };
  storage: {
    accountName: pulumi.Input<string>;
    blobEndpoint: pulumi.Input<string>;
    checkpointContainer: pulumi.Input<string>;
    deadLetterContainer: pulumi.Input<string>;
  };
  minReplicas: number;
  /** At most the partition count (a replica beyond it would own no partition); with a model, see workerScale.ts. */
  maxReplicas: number;
  unprocessedEventThreshold: number;
  /** Where the worker's traces and metrics go (Azure Monitor distro); handed over as a Container Apps secret. */
  applicationInsightsConnectionString: pulumi.Input<string>;
  /** vCPUs per replica; memory is 2 GiB per vCPU (the Consumption profile's ratio). */
  cpu: number;
  /** A remote model to call instead of text-insights: its worker settings, and the deployments to wait for. */
  model?: { settings: WorkerEnvironment<pulumi.Input<string>>; deployments: readonly pulumi.Resource[] };
  tags: Record<string, string>;
}

const APPLICATION_INSIGHTS_SECRET = "applicationinsights-connection-string";

/**
 * The worker's environment: Entra ID everywhere (the user-assigned identity through DefaultAzureCredential,
 * picked by AZURE_CLIENT_ID); the one secret is Application Insights' connection string, by reference.
 */
function workerEnvironment(args: WorkerAppArgs): inputs.app.EnvironmentVarArgs[] {
  const settings: WorkerEnvironment<pulumi.Input<string>> = {
    EVENTHUB_NAMESPACE: args.eventHub.fullyQualifiedNamespace,
    EVENTHUB_NAME: args.eventHub.eventHubName,
    EVENTHUB_CONSUMER_GROUP: args.eventHub.consumerGroup,
    STORAGE_ACCOUNT_URL: args.storage.blobEndpoint,
    CHECKPOINT_CONTAINER: args.storage.checkpointContainer,
    DEAD_LETTER_CONTAINER: args.storage.deadLetterContainer,
    // The stack owns the containers; the identity's grants are scoped to them, not to creating new ones.
    CREATE_CONTAINERS: "false",
    METRICS_PORT: String(WORKER_METRICS_PORT),
    // A remote model is called from the event loop; text-insights runs in a thread pool, and Node sees the host's
    // cores, not the replica's share: size that pool to the vCPUs granted.
    ...(args.model ? args.model.settings : { PROCESSOR_THREADS: String(Math.max(1, Math.floor(args.cpu))) }),
  };
  return [
    ...Object.entries(settings).map(([name, value]) => ({ name, value })),
    // Not a worker setting: DefaultAzureCredential's choice of the user-assigned identity.
    { name: "AZURE_CLIENT_ID", value: args.identity.clientId },
    { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", secretRef: APPLICATION_INSIGHTS_SECRET },
  ];
}

/**
 * KEDA's azure-eventhub scaler: replicas = ceil(total unprocessed events / threshold), at most one per
 * partition. Lag per partition is the last enqueued sequence number minus the checkpoint's, read from the
 * checkpoint blobs' metadata (blobMetadata: the layout BlobCheckpointStore writes), authenticated as the
 * worker's managed identity.
 */
function eventHubScaleRule(args: WorkerAppArgs): inputs.app.ScaleRuleArgs {
  return {
    name: SCALE_RULE_NAME,
    custom: {
      type: "azure-eventhub",
      identity: args.identity.id,
      metadata: {
        eventHubNamespace: args.eventHub.namespaceName,
        eventHubName: args.eventHub.eventHubName,
        consumerGroup: args.eventHub.consumerGroup,
        unprocessedEventThreshold: String(args.unprocessedEventThreshold),
        checkpointStrategy: "blobMetadata",
        storageAccountName: args.storage.accountName,
        blobContainer: args.storage.checkpointContainer,
      },
    },
  };
}

interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds: number;
  /** Container Apps allows 1-10. */
  failureThreshold: number;
  timeoutSeconds: number;
}

function httpProbe(type: app.Type, path: string, timing: ProbeTiming) {
  return { type, httpGet: { path, port: WORKER_METRICS_PORT }, ...timing };
}

/** The worker as a Container App: one active revision, no ingress (it only pulls from the hub), scaled on lag. */
export class WorkerApp extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: WorkerAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiworkers:infra:WorkerApp", name, {}, opts);
    const containerApp = new app.ContainerApp(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        containerAppName: args.containerAppName,
        managedEnvironmentId: args.environmentId,
        workloadProfileName: args.workloadProfileName,
        identity: { type: app.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [args.identity.id] },
        configuration: {
          activeRevisionsMode: app.ActiveRevisionsMode.Single,
          // No ingress: nothing calls the worker; probes reach the replica directly.
          registries: [{ server: args.registryServer, identity: args.identity.id }],
          secrets: [{ name: APPLICATION_INSIGHTS_SECRET, value: pulumi.secret(args.applicationInsightsConnectionString) }],
        },
        template: {
          containers: [
            {
              name: "worker",
              image: args.image,
              env: workerEnvironment(args),
              resources: { cpu: args.cpu, memory: `${args.cpu * 2}Gi` },
              probes: [
                // Startup allows about 100 s (thread pool, AMQP, storage) before liveness takes over.
                httpProbe(app.Type.Startup, "/healthz", { initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 10, timeoutSeconds: 3 }),
                httpProbe(app.Type.Liveness, "/healthz", { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 }),
                // /readyz checks the checkpoint container, bounded by the worker at 5 s.
                httpProbe(app.Type.Readiness, "/readyz", { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 10 }),
              ],
            },
          ],
          scale: {
            minReplicas: args.minReplicas,
            maxReplicas: args.maxReplicas,
            pollingInterval: SCALE_POLLING_INTERVAL_SECONDS,
            cooldownPeriod: SCALE_COOLDOWN_SECONDS,
            rules: [eventHubScaleRule(args)],
          },
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
        },
        tags: args.tags,
      },
      // A first revision that cannot pull, read or reach its model deployments would only crash-loop.
      { parent: this, dependsOn: [...args.grants, ...(args.model?.deployments ?? [])] },
    );
    this.name = containerApp.name;
    this.registerOutputs({ name: this.name });
  }
}
