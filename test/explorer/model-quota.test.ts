// The explorer's model-quota API against the emulator and Azurite, over fleet records written by the worker's own
// FleetCoordinator: per deployment the quota, the live replicas' sums, each replica's share (as the fleet set
// it), use and circuit, the history, and replicas that are gone or records it cannot read left out of the sums.
import { EventHubConsumerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { startExplorer, type ExplorerServer } from "../../explorer/server";
import { parseConnection } from "../../explorer/settings";
import type { ModelQuotaView } from "../../explorer/quota-watch";
import { waitFor } from "../../tools/wait-for";
import { FleetCoordinator, type QuotaParticipant } from "../../worker/fleet/fleet-coordinator";
import { recordPrefix, toMetadata, type DeploymentUse } from "../../worker/fleet/fleet-record";
import { QUOTA_TARGET } from "../../worker/fleet/quota-shares";
import type { Rates } from "../../worker/processing/model/rate-governor";
import { fourPartitionHubs } from "../support/hub-fixtures";

const HUBS = ["quota-sums", "quota-gone"];
const GROUP = "ai-workers";
const PRIMARY_PER_MINUTE = 600; // 10 a second
let stack: LocalStack;
let explorer: ExplorerServer;
let checkpoints: ReturnType<BlobServiceClient["getContainerClient"]>;
let namespace: string;
const coordinators: FleetCoordinator[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs(...HUBS) });
  const parsed = parseConnection({}, { ...stack.env(), EVENTHUB_NAME: HUBS[0] });
  if (!("connection" in parsed)) throw new Error(parsed.problems.join("\n"));
  explorer = await startExplorer(
    { connection: parsed.connection, hubs: HUBS, consumerGroups: [GROUP], peekConsumerGroup: "$Default", allowWrites: false, workerMetricsUrls: () => [], title: "test" },
    { host: "127.0.0.1", port: 0 },
  );
  checkpoints = BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(parsed.connection.storage.checkpointContainer);
  // The namespace as the worker names it in its records: its consumer client's.
  const client = new EventHubConsumerClient(GROUP, stack.eventHubConnectionString, HUBS[0]!);
  namespace = client.fullyQualifiedNamespace;
  await client.close();
}, 90_000);
afterAll(async () => {
  await Promise.all(coordinators.map((c) => c.stop()));
  await explorer?.close();
  await stack?.stop();
});

type Use = Pick<DeploymentUse, "requestsPerSecond" | "acceptedPerSecond" | "throttledPerSecond" | "wanting" | "circuit">;

/** A replica as the worker runs one: its coordinator shares the deployments' quotas; the test sets their use. */
async function replica(hub: string, name: string, deployments: Record<string, { requestsPerMinute?: number; use: Use }>) {
  const shares = new Map<string, Rates | undefined>();
  const participants = Object.entries(deployments).map(([deployment, { requestsPerMinute, use }]): QuotaParticipant => ({
    name: deployment,
    quota: requestsPerMinute === undefined ? {} : { requestsPerMinute },
    use: () => {
      const share = shares.get(deployment);
      return {
        ...use,
        tokensPerSecond: 0,
        needRequestsPerSecond: use.requestsPerSecond,
        needTokensPerSecond: 0,
        ...(share ? { shareRequestsPerSecond: share.requestsPerSecond } : {}),
        ...(requestsPerMinute !== undefined ? { quotaRequestsPerSecond: requestsPerMinute / 60 } : {}),
      };
    },
    setShare: (share) => shares.set(deployment, share),
  }));
  const coordinator = new FleetCoordinator({
    container: checkpoints, prefix: recordPrefix(namespace, hub, GROUP), replica: name, syncIntervalMs: 1000,
    owned: () => [], wants: () => [], onHandoverRequests: () => undefined, logger: pino({ level: "silent" }),
  });
  coordinator.shareQuotas(participants);
  coordinators.push(coordinator);
  await coordinator.start();
  return { coordinator, share: (deployment: string) => shares.get(deployment)?.requestsPerSecond };
}

async function quotaOf(hub: string, group = GROUP): Promise<{ status: number; body: ModelQuotaView & { error?: string } }> {
  const response = await fetch(new URL(`/api/hubs/${hub}/consumer-groups/${encodeURIComponent(group)}/model-quota`, explorer.url));
  return { status: response.status, body: (await response.json()) as ModelQuotaView };
}

/** Polls the API until `holds` is true of one answer, and returns that answer. */
async function quotaWhen(hub: string, what: string, holds: (view: ModelQuotaView) => boolean): Promise<ModelQuotaView> {
  let view: ModelQuotaView | undefined;
  await waitFor(what, async () => holds((view = (await quotaOf(hub)).body)), 30_000, () => JSON.stringify(view));
  return view!;
}

const deployment = (view: ModelQuotaView, name: string) => view.deployments.find((d) => d.name === name);
const closed = { circuit: "closed" } as const;

describe("explorer model-quota API", () => {
  it("sums the live replicas per deployment and shows each one's share, use and circuit, with a history", async () => {
    const hub = HUBS[0]!;
    const a = await replica(hub, "replica-a", {
      primary: { requestsPerMinute: PRIMARY_PER_MINUTE, use: { requestsPerSecond: 5, acceptedPerSecond: 4, throttledPerSecond: 1, wanting: true, ...closed } },
      spill: { use: { requestsPerSecond: 1, acceptedPerSecond: 1, throttledPerSecond: 0, wanting: false, circuit: "open" } },
    });
    const b = await replica(hub, "replica-b", {
      primary: { requestsPerMinute: PRIMARY_PER_MINUTE, use: { requestsPerSecond: 2, acceptedPerSecond: 2, throttledPerSecond: 0, wanting: false, ...closed } },
    });
    // The records carry the shares of the sync before: wait until they state what the coordinators set.
    const view = await quotaWhen(hub, "the shares the fleet set", (v) => {
      const shares = deployment(v, "primary")?.replicas.map((r) => r.shareRequestsPerSecond);
      return shares?.length === 2 && shares[0] === a.share("primary") && shares[1] === b.share("primary");
    });
    expect(view).toMatchObject({ liveReplicas: 2, goneReplicas: 0, unreadableRecords: 0 });
    expect(view.error).toBeUndefined();
    const primary = deployment(view, "primary")!;
    expect(primary).toMatchObject({
      quotaRequestsPerSecond: 10, sentPerSecond: 7, acceptedPerSecond: 6, throttledPerSecond: 1, fill: 0.6,
      circuits: { closed: 2, open: 0, "half-open": 0 },
      replicas: [
        { replica: "replica-a", sentPerSecond: 5, acceptedPerSecond: 4, throttledPerSecond: 1, wanting: true, ...closed },
        { replica: "replica-b", sentPerSecond: 2, acceptedPerSecond: 2, throttledPerSecond: 0, wanting: false, ...closed },
      ],
    });
    // The wanting replica has the larger share; together they take the quota less the fleet's margin.
    const [shareA, shareB] = primary.replicas.map((r) => r.shareRequestsPerSecond ?? Number.NaN) as [number, number];
    expect(shareA).toBeGreaterThan(shareB);
    expect(shareA + shareB).toBeCloseTo(10 * QUOTA_TARGET, 6);
    expect(deployment(view, "spill")).toMatchObject({
      quotaRequestsPerSecond: null, fill: null, sentPerSecond: 1, acceptedPerSecond: 1,
      circuits: { closed: 0, open: 1, "half-open": 0 },
      replicas: [{ replica: "replica-a", shareRequestsPerSecond: null, circuit: "open" }],
    });

    // The explorer samples once a second while someone asks: every sample saw both replicas.
    const later = await quotaWhen(hub, "three samples", (v) => (deployment(v, "primary")?.history.at.length ?? 0) >= 3);
    const history = deployment(later, "primary")!.history;
    expect(new Set(history.accepted)).toEqual(new Set([6]));
    expect(new Set(history.throttled)).toEqual(new Set([1]));
    expect(new Set(history.sent)).toEqual(new Set([7]));
    expect(new Set(history.quota)).toEqual(new Set([10]));
    expect(history.at.at(-1)).toBe(later.sampledAt);
    expect(history.at).toEqual([...history.at].sort((x, y) => x - y));
    expect(deployment(later, "primary")!.fillLastMinute).toBe(0.6);
  });

  it("leaves replicas that are gone and records it cannot read out of the sums, and drops a replica that left", async () => {
    const hub = HUBS[1]!;
    const prefix = recordPrefix(namespace, hub, GROUP);
    const use = { requestsPerSecond: 3, acceptedPerSecond: 3, throttledPerSecond: 0, wanting: false, ...closed };
    await replica(hub, "replica-a", { primary: { requestsPerMinute: PRIMARY_PER_MINUTE, use } });
    const b = await replica(hub, "replica-b", { primary: { requestsPerMinute: PRIMARY_PER_MINUTE, use } });
    // What a replica killed with -9 leaves behind: its last record, never rewritten; and a record of a future format.
    const crashed: DeploymentUse = { requestsPerSecond: 50, tokensPerSecond: 0, wanting: true, needRequestsPerSecond: 50, needTokensPerSecond: 0, acceptedPerSecond: 40, throttledPerSecond: 10, quotaRequestsPerSecond: 10, circuit: "half-open" };
    const record = { replica: "replica-crashed", writtenAt: Date.now(), freshForMs: 5000, owned: [], wants: [], deployments: { primary: crashed } };
    await checkpoints.getBlockBlobClient(`${prefix}replica-crashed`).upload("", 0, { metadata: toMetadata(record) });
    await checkpoints.getBlockBlobClient(`${prefix}replica-future`).upload("", 0, { metadata: { format: "2", replica: "replica-future" } });

    const fresh = await quotaWhen(hub, "the crashed replica's record while it is fresh", (v) => v.liveReplicas === 3);
    expect(fresh.unreadableRecords).toBe(1);
    expect(deployment(fresh, "primary")).toMatchObject({ acceptedPerSecond: 46, throttledPerSecond: 10, circuits: { closed: 2, "half-open": 1 } });

    // Five sync intervals later by the storage service's clock, it is a replica that is gone.
    const stale = await quotaWhen(hub, "the crashed replica gone", (v) => v.goneReplicas === 1);
    expect(stale).toMatchObject({ liveReplicas: 2, unreadableRecords: 1 });
    expect(deployment(stale, "primary")).toMatchObject({ acceptedPerSecond: 6, throttledPerSecond: 0, circuits: { closed: 2, open: 0, "half-open": 0 } });
    expect(deployment(stale, "primary")!.replicas.map((r) => r.replica)).toEqual(["replica-a", "replica-b"]);

    await b.coordinator.stop(); // deletes its record
    const left = await quotaWhen(hub, "replica-b to have left", (v) => v.liveReplicas === 1);
    expect(deployment(left, "primary")).toMatchObject({ acceptedPerSecond: 3, replicas: [{ replica: "replica-a" }] });
  });

  it("answers 404 for a hub or consumer group it does not show", async () => {
    const group = await quotaOf(HUBS[0]!, "other-group");
    expect(group.status).toBe(404);
    expect(group.body.error).toBe('consumer group "other-group" is not one the explorer shows (ai-workers)');
    expect((await quotaOf("nope")).status).toBe(404);
  });
});
