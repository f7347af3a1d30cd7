// The SDK's partition receiver (6.0.4) adds a prefetch's worth of link credit on every empty receive cycle; the
// worker bounds it (worker/receiver-credit.ts). Measured where it matters: the credit the emulator holds for
// the link, i.e. how many events the service may push into the process at once.
import { createRequire } from "node:module";
import { EventHubConsumerClient, latestEventPosition } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsEmulator } from "../../emulator/server";
import { waitFor } from "../../tools/wait-for";
import { boundReceiverCredit, CORRECTED_SDK_VERSION } from "../../worker/receiver-credit";
import { HUB, producerFor, retryOptions, startEmulator } from "../emulator/broker-helpers";

const PREFETCH = 20;
/** Empty receive cycles to sit through: unbounded, they would grant this many prefetches. */
const IDLE_CYCLES = 10;

let emulator: EventHubsEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

/** Subscribes to partition 0 from the latest event, counting empty receive cycles and events. */
function subscribe(client: EventHubConsumerClient) {
  const seen = { emptyCycles: 0, events: 0 };
  const subscription = client.subscribe(
    "0",
    {
      processEvents: async (events) => {
        if (events.length === 0) seen.emptyCycles++;
        seen.events += events.length;
      },
      processError: async () => undefined,
    },
    { startPosition: latestEventPosition, maxBatchSize: 10, prefetchCount: PREFETCH, maxWaitTimeInSeconds: 0.05 },
  );
  return { seen, close: () => subscription.close() };
}

describe("an idle partition's receiver", () => {
  it("is written for the installed SDK release (look at azure-sdk-for-js#39452 again when this fails)", () => {
    const { version } = createRequire(__filename)("@azure/event-hubs/package.json") as { version: string };
    expect(version).toBe(CORRECTED_SDK_VERSION);
  });

  it("holds no more credit than its prefetch however long it idles, and still receives a burst whole", async () => {
    const client = new EventHubConsumerClient("$Default", emulator.connectionString(), HUB, { retryOptions });
    try {
      // The SDK as it comes: credit grows by a prefetch every empty cycle.
      const unbounded = subscribe(client);
      await waitFor("the SDK's credit to pass five prefetches", () => emulator.stats().unusedCredit >= 5 * PREFETCH, 20_000);
      await unbounded.close();
      await waitFor("the first link to go", () => emulator.stats().consumerLinks === 0, 10_000);

      boundReceiverCredit();
      boundReceiverCredit(); // idempotent: a second call changes nothing
      const bounded = subscribe(client);
      let most = 0;
      await waitFor(`${IDLE_CYCLES} empty receive cycles`, () => {
        most = Math.max(most, emulator.stats().unusedCredit);
        return bounded.seen.emptyCycles >= IDLE_CYCLES;
      }, 20_000);
      most = Math.max(most, emulator.stats().unusedCredit);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(PREFETCH);

      const producer = producerFor(emulator);
      const burst = 5 * PREFETCH;
      await producer.sendBatch(Array.from({ length: burst }, (_, i) => ({ body: `burst ${i}` })), { partitionId: "0" }).finally(() => producer.close());
      await waitFor("the whole burst", () => bounded.seen.events === burst, 20_000);
      expect(emulator.stats().unusedCredit).toBeLessThanOrEqual(PREFETCH);
      await bounded.close();
    } finally {
      await client.close();
    }
  });
});
