// Wrong credentials, an unreachable namespace and a taken port, with real worker and send processes: reported at
// once and by name, never with an empty message, never echoing the key; a worker that cannot receive is not ready;
// a worker that fails to start closes what it started, and one that stops closes everything, in one order.
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { azuriteConnectionString, startAzurite, startLocalStack, type LocalStack } from "../../../emulator";
import { waitFor } from "../../../tools/wait-for";
import { fourPartitionHubs } from "../../support/hub-fixtures";
import { runProgram } from "../../support/program";
import { exitOf, WorkerFleet, type LogLine } from "../../support/worker-process";

let stack: LocalStack;
const workers = new WorkerFleet(() => stack.env());
const WRONG_KEY = "d3Jvbmcta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1wcmludGVk";
const withWrongKey = () => stack.eventHubConnectionString.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${WRONG_KEY}`);

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("creds") });
});
afterEach(async () => {
  await workers.disposeAll();
});
afterAll(async () => {
  await stack?.stop();
});

/** What a worker logged closing, step by step. */
const closeSteps = (logs: readonly LogLine[]) => logs.map((l) => l.step).filter((step) => typeof step === "string");

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("credentials and reachability", () => {
  it("a worker with a wrong SAS key stops at once with exit 1, naming the failure, without printing the key", async () => {
    const worker = workers.start("wrong-key", "creds", { EVENTHUB_CONNECTION_STRING: withWrongKey() });
    expect((await exitOf(worker, 30_000)).code).toBe(1);
    const fatal = worker.logs.find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/Event Hubs refused the credentials of EVENTHUB_CONNECTION_STRING .*UnauthorizedError: InvalidSignature/);
    expect(worker.logs.some((l) => l.msg.startsWith("worker started"))).toBe(false);
    expect(JSON.stringify(worker.logs) + worker.stderrText.join("\n")).not.toContain(WRONG_KEY);
  });

  it("a worker that cannot reach storage at start keeps trying, says why, and starts once storage is there", async () => {
    const port = await closedPort();
    const worker = workers.start("no-storage", "creds", {
      STORAGE_CONNECTION_STRING: azuriteConnectionString(`http://127.0.0.1:${port}/devstoreaccount1`),
      RETRY_MAX_DELAY_MS: "500",
    });
    await waitFor(
      "a retry of the checkpoint container",
      () => worker.logs.some((l) => /^cannot reach container "checkpoints-ai-workers" yet; retrying$/.test(l.msg) && /ECONNREFUSED/.test(JSON.stringify(l.err))),
      60_000,
      () => worker.describe(),
    );
    const azurite = await startAzurite({ port });
    try {
      await worker.started(60_000);
      await waitFor("readiness", async () => (await worker.status()).readiness.ready, 60_000, () => worker.describe());
      expect(worker.running).toBe(true);
    } finally {
      await workers.disposeAll();
      await azurite.stop();
    }
  });

  it("a worker refused by storage stops at once with exit 1 and the reason", async () => {
    const worker = workers.start("no-container", "creds", { CREATE_CONTAINERS: "false", CHECKPOINT_CONTAINER: "no-such-container" });
    expect((await exitOf(worker, 30_000)).code).toBe(1);
    expect(worker.logs.find((l) => l.level === 60)?.msg).toMatch(
      /^container "no-such-container" does not exist at .* \(CHECKPOINT_CONTAINER\); create it, or set CREATE_CONTAINERS=true$/,
    );
  });

  it("a worker that cannot reach Event Hubs says why and is not ready", async () => {
    const unreachable = stack.eventHubConnectionString.replace(/Endpoint=sb:\/\/[^;]+/, `Endpoint=sb://127.0.0.1:${await closedPort()}`);
    const worker = workers.start("unreachable", "creds", { EVENTHUB_CONNECTION_STRING: unreachable });
    const port = await worker.started(60_000);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons.join("; ")).toMatch(/not receiving yet: no load-balancing round has completed for event hub "creds" .*ECONNREFUSED/);
    // /status answers all the same: the worker's owner id, nothing owned; not ready, and why.
    const status = await worker.status();
    expect(status).toEqual({ ownerId: expect.stringMatching(/^[0-9a-f-]{36}$/), ownedPartitions: [], pid: worker.pid, metricsPort: port, readiness: { ready: false, reasons: expect.any(Array), notes: expect.any(Array) } });
    expect(status.readiness.reasons.join("; ")).toMatch(/not receiving yet: no load-balancing round has completed for event hub "creds" .*ECONNREFUSED/);
    expect(worker.logs.find((l) => l.problem === "unreachable")?.err).toMatch(/^ECONNREFUSED: connect ECONNREFUSED/);
    // No error is ever logged without its message.
    const emptyErrors = worker.logs.filter((l) => typeof l.err === "object" && l.err !== null && !(l.err as { message?: string }).message);
    expect(emptyErrors).toEqual([]);
    worker.signal("SIGTERM");
    expect((await exitOf(worker, 30_000)).code).toBe(0);
    expect(closeSteps(worker.logs)).toEqual([
      "drain: finish the events already sent, commit and checkpoint",
      "leave the fleet (the others take this replica's quota shares)",
      "close subscription (release ownership)",
      "close event hubs client",
      "close processor",
      "close sink",
      "close metrics server",
    ]);
  });

  it("a worker whose metrics port is taken stops with exit 1, naming METRICS_PORT, having closed what it had started", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const worker = workers.start("port-taken", "creds", { METRICS_PORT: String(port) });
      expect((await exitOf(worker, 60_000)).code).toBe(1);
      expect(worker.logs.find((l) => l.level === 60)?.msg).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port} \\(METRICS_PORT\\): .*EADDRINUSE`));
      expect(closeSteps(worker.logs)).toEqual([
        "leave the fleet (the others take this replica's quota shares)",
        "close subscription (release ownership)",
        "close event hubs client",
        "close processor",
        "close sink",
      ]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("npm run send with a wrong key fails at once, naming the failure", async () => {
    const { status, stderr } = await runProgram("tools/send.ts", ["--count", "5"], { EVENTHUB_CONNECTION_STRING: withWrongKey(), EVENTHUB_NAME: "creds" }, 45_000);
    expect(status).toBe(1);
    expect(stderr).toMatch(/send failed: Event Hubs refused the credentials \(UnauthorizedError: InvalidSignature/);
    expect(stderr).not.toContain(WRONG_KEY);
  });
});
