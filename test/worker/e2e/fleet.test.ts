// Replicas of one consumer group calling one model deployment, as real worker processes against the emulator,
// Azurite and a local model server: partitions move between them by hand-over (a replica joining, a replica
// stopped with SIGTERM) without an event processed twice or a model call paid twice; four replicas share a
// quota; and with the fleet records unreachable every replica keeps working on its own.
import { describe, expect, it } from "vitest";
import { FakeModelServer } from "../../../bench/fake-model-server";
import { waitFor } from "../../../tools/wait-for";
import { keysOf, readDeadLetters, sendToEveryPartition } from "../../support/hub-fixtures";
import { StorageProxy } from "../../support/storage-proxy";
import { exitOf, key, type TestWorker } from "../../support/worker-process";
import { useModelStack } from "../../support/model-stack";

const fixture = useModelStack("handover", "shared", "uncoordinated");
const { workers } = fixture;
const modelServer = (options?: Parameters<typeof fixture.modelServer>[0]) => fixture.modelServer(options);

/** Worker settings for PROCESSOR=model with one deployment on `server`. */
function modelEnv(server: FakeModelServer, deployment: Record<string, unknown> = {}, env: Record<string, string> = {}): Record<string, string> {
  return {
    PROCESSOR: "model",
    MODEL_DEPLOYMENTS: JSON.stringify([{ name: "primary", provider: "azure-openai", endpoint: server.endpoint, deployment: "triage", apiKeyEnv: "MODEL_KEY", ...deployment }]),
    MODEL_KEY: "test-key",
    FLEET_SYNC_INTERVAL_MS: "250",
    ...env,
  };
}

async function readinessOf(worker: TestWorker): Promise<{ ready: boolean; reasons: string[]; notes: string[] }> {
  return (await worker.status()).readiness;
}

async function gauge(worker: TestWorker, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${await worker.started(30_000)}/metrics`)).text();
  return Number(text.split("\n").find((l) => l.startsWith(line))?.split(" ").at(-1) ?? Number.NaN);
}

describe("a fleet of workers on one model deployment", () => {
  it("moves partitions by hand-over when a replica joins and when one is stopped: nothing processed or paid twice", async () => {
    // About 40 answers a second per replica: a backlog that lasts while the second replica starts.
    const server = await modelServer({ latency: { baseMs: 50 } });
    const env = modelEnv(server, {}, { MODEL_MAX_CONCURRENCY: "2", MODEL_INITIAL_CONCURRENCY: "2", MAX_BATCH_SIZE: "10" });
    const a = workers.start("a", "handover", env);
    await a.started(60_000);
    await waitFor("a to own all 4", async () => (await a.status()).ownedPartitions.length === 4, 60_000, () => a.describe());
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "handover", 150);
    await waitFor("a to be under way", () => a.results.length >= 20, 30_000, () => a.describe());

    const b = workers.start("b", "handover", env);
    const both = () => `${a.describe()}\n${b.describe()}`;
    await b.started(60_000);
    await waitFor("b to take two partitions over", async () => (await b.status()).ownedPartitions.length === 2, 60_000, both);
    expect(a.logs.filter((l) => l.msg.startsWith("partition handed over"))).toHaveLength(2);
    const beforeStop = a.results.length;
    expect(beforeStop).toBeLessThan(sent.length); // the backlog was not over when the partitions moved

    a.signal("SIGTERM"); // scale-in: b takes the rest over from a's checkpoints
    expect((await exitOf(a, 30_000)).code).toBe(0);
    await waitFor("every event", () => keysOf([...a.results, ...b.results]).size >= sent.length, 90_000, both);

    const byA = new Set(a.results.map((r) => key(r.partitionId, r.sequenceNumber)));
    const twice = b.results.filter((r) => byA.has(key(r.partitionId, r.sequenceNumber)));
    expect(twice).toEqual([]);
    expect(a.results.length + b.results.length).toBe(sent.length);
    expect(server.count(200)).toBe(sent.length); // every model call paid once
  }, 180_000);

  it("four replicas started together share a quota: every event processed, none dead-lettered, shares within the quota", async () => {
    const server = await modelServer({ quota: { requestsPerMinute: 600 }, latency: { baseMs: 20 } });
    const env = modelEnv(server, { requestsPerMinute: 600 });
    const fleet = ["w0", "w1", "w2", "w3"].map((name) => workers.start(name, "shared", env));
    await Promise.all(fleet.map((w) => w.started(60_000)));
    const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "shared", 12);
    const all = () => fleet.flatMap((w) => w.results);
    await waitFor("every event", () => keysOf(all()).size >= sent.length, 90_000, () => fleet.map((w) => w.describe()).join("\n"));
    expect(keysOf(all())).toEqual(keysOf(sent));
    expect(await readDeadLetters(fixture.stack.storageConnectionString, fixture.stack.deadLetterContainer, "shared")).toHaveProperty("size", 0);
    // Once every replica has read every record, their shares divide the quota (10 a second, less the margin).
    let shares: number[] = [];
    const addUp = async () => {
      shares = await Promise.all(fleet.map((w) => gauge(w, 'worker_model_share_requests_per_second{deployment="primary"}')));
      return Math.abs(shares.reduce((x, y) => x + y, 0) - 9.5) < 1e-6;
    };
    await waitFor("the shares to add up to the quota less its margin", addUp, 30_000, () => `shares ${shares.join(", ")}`);
  }, 180_000);

  it("with the fleet records unreachable, keeps processing on its own governor and says it is uncoordinated", async () => {
    const proxy = await StorageProxy.start({ host: "127.0.0.1", port: fixture.stack.blobPort });
    try {
      proxy.failing = /\/fleet\//;
      const server = await modelServer({ quota: { requestsPerMinute: 1200 } });
      const worker = workers.start("alone", "uncoordinated", { ...modelEnv(server, { requestsPerMinute: 1200 }), STORAGE_CONNECTION_STRING: proxy.connectionString(fixture.stack.storageConnectionString) });
      const sent = await sendToEveryPartition(fixture.stack.eventHubConnectionString, "uncoordinated", 10);
      await waitFor("every event", () => keysOf(worker.results).size >= sent.length, 60_000, () => worker.describe());
      const readiness = await readinessOf(worker);
      expect(readiness.ready).toBe(true);
      expect(readiness.notes).toContainEqual(expect.stringMatching(/^fleet coordination unavailable \(.*\): model quotas are paced by this replica alone and partitions move without hand-overs$/));
      expect(await gauge(worker, 'worker_model_share_requests_per_second{deployment="primary"}')).toBe(0);
      expect(proxy.refused).toBeGreaterThan(0);

      proxy.failing = undefined;
      await waitFor("coordinated again", async () => (await readinessOf(worker)).notes.length === 0, 30_000, () => worker.describe());
      expect(await gauge(worker, 'worker_model_share_requests_per_second{deployment="primary"}')).toBeCloseTo(19, 6);
    } finally {
      await proxy.close();
    }
  });
});
