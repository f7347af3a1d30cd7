// Two replicas' coordinators on a real Azurite: they find each other through their records, divide a
// deployment's quota by what each wants, hand a drained replica's share to the other, and fall back to
// pacing alone when the records cannot be reached. Assertions wait on states, never on timing.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type RunningAzurite } from "../../../emulator/azurite";
import { FleetCoordinator, type QuotaParticipant } from "../../../worker/fleet/fleet-coordinator";
import { recordPrefix } from "../../../worker/fleet/fleet-record";
import { QUOTA_TARGET } from "../../../worker/fleet/quota-shares";
import { createBlobService } from "../../../worker/storage-clients";
import type { Rates } from "../../../worker/processing/model/rate-governor";
import { waitFor } from "../../../tools/wait-for";
import { StorageProxy } from "../../support/storage-proxy";

const CONTAINER = "checkpoints-ai-workers";
const QUOTA_PER_MINUTE = 600; // 10 a second
let azurite: RunningAzurite;
let proxy: StorageProxy;

beforeAll(async () => {
  azurite = await startAzurite({ containers: [CONTAINER] });
  proxy = await StorageProxy.start({ host: "127.0.0.1", port: azurite.port });
});
afterAll(async () => {
  await proxy?.close();
  await azurite?.stop();
});

/** A replica with one deployment, whose use the test sets and whose share the coordinator sets. */
function replica(name: string, hub: string) {
  const state: { wanting: boolean; share: Rates | undefined } = { wanting: true, share: undefined };
  const participant: QuotaParticipant = {
    name: "primary",
    quota: { requestsPerMinute: QUOTA_PER_MINUTE },
    use: () => ({ requestsPerSecond: state.wanting ? 5 : 0, tokensPerSecond: 0, wanting: state.wanting, needRequestsPerSecond: 0, needTokensPerSecond: 0, acceptedPerSecond: 0, throttledPerSecond: 0, circuit: "closed" }),
    setShare: (share) => (state.share = share),
  };
  // The worker's own storage client: one try per request, as the worker makes them.
  const container = createBlobService({ connectionString: proxy.connectionString(azurite.connectionString) }, () => {
    throw new Error("no Entra ID here");
  }).getContainerClient(CONTAINER);
  const coordinator = new FleetCoordinator({
    container, prefix: recordPrefix("127.0.0.1", hub, "ai-workers"), replica: name, syncIntervalMs: 200,
    owned: () => [], wants: () => [], onHandoverRequests: () => undefined, logger: pino({ level: "silent" }),
  });
  coordinator.shareQuotas([participant]);
  return { state, coordinator };
}

const share = (r: ReturnType<typeof replica>) => r.state.share?.requestsPerSecond ?? Number.NaN;

describe("fleet coordinator", () => {
  it("divides a quota between replicas, hands a drained one's share over, and takes a departed one's back", async () => {
    const [a, b] = [replica("a", "shares"), replica("b", "shares")];
    await Promise.all([a.coordinator.start(), b.coordinator.start()]);
    try {
      const half = (10 * QUOTA_TARGET) / 2;
      await waitFor("an even split", () => a.coordinator.liveReplicas() === 2 && b.coordinator.liveReplicas() === 2 && share(a) === half && share(b) === half, 20_000);
      a.state.wanting = false; // a ran out of work
      await waitFor("b to take a's share", () => share(b) > 0.8 * 10 * QUOTA_TARGET, 20_000, () => `a ${share(a)}, b ${share(b)}`);
      expect(share(a) + share(b)).toBeCloseTo(10 * QUOTA_TARGET, 9);
      await a.coordinator.stop(); // its record is deleted: b has the whole quota at its next sync
      await waitFor("b alone", () => b.coordinator.liveReplicas() === 1 && share(b) === 10 * QUOTA_TARGET, 20_000);
    } finally {
      await Promise.all([a.coordinator.stop(), b.coordinator.stop()]);
    }
  });

  it("paces alone and says why while the records cannot be reached, and coordinates again once they can", async () => {
    const r = replica("c", "outage");
    await r.coordinator.start();
    try {
      expect(r.coordinator.status()).toEqual({ coordinated: true, replicas: 1 });
      expect(share(r)).toBe(10 * QUOTA_TARGET);
      proxy.failing = /\/fleet\//;
      // The governor learns its own pace from 429s again.
      await waitFor("uncoordinated, without a share", () => !r.coordinator.coordinated() && r.state.share === undefined, 20_000);
      expect(r.coordinator.status().problem).toMatch(/^fleet records in container "checkpoints-ai-workers" unreachable: /);
      proxy.failing = undefined;
      await waitFor("coordinated again", () => r.coordinator.coordinated() && r.state.share !== undefined, 20_000);
    } finally {
      proxy.failing = undefined;
      await r.coordinator.stop();
    }
  });
});
