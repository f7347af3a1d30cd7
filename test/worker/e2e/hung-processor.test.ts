// A processor call that never settles, end to end with a real worker process: the event fails with the time
// limit, is retried, then dead-lettered, and its partition moves on; at shutdown, a partition stuck in such a
// call does not keep the healthy partitions from being checkpointed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { keysOf, readCheckpoints, readDeadLetters, sendToEveryPartition, fourPartitionHubs } from "../../support/hub-fixtures";
import { waitFor } from "../../../tools/wait-for";
import { exitOf, WorkerFleet } from "../../support/worker-process";

let stack: LocalStack;
const workers = new WorkerFleet(() => stack.env());
// The fourth event of each partition ("Message 3 ...") never settles; on "stuck" only partition 2's does.
const hangingModule = join(mkdtempSync(join(tmpdir(), "hang-")), "hang.mjs");
writeFileSync(
  hangingModule,
  `export function process(input) {
    const text = input.body.text;
    const hangs = text.startsWith("Message 3 ") && (!process.env.HANG_PARTITION || text.includes("partition " + process.env.HANG_PARTITION + ":"));
    return hangs ? new Promise(() => {}) : { length: text.length };
  }`.replace(/process\.env/g, "globalThis.process.env"),
);

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs("hung", "stuck") });
});
afterEach(async () => {
  await workers.disposeAll();
});
afterAll(async () => {
  await stack?.stop();
});

describe("a processor call that never settles", () => {
  it("fails with PROCESSOR_TIMEOUT_MS, is retried, then dead-lettered, and the partition moves on", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "hung", 6);
    const hanging = sent.filter((e) => e.sequenceNumber === 3);
    const worker = workers.start("hung", "hung", { PROCESSOR: hangingModule, PROCESSOR_TIMEOUT_MS: "500", RETRY_MAX_ATTEMPTS: "2" });

    await waitFor("every other event", () => worker.results.length >= sent.length - hanging.length, 60_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(sent.filter((e) => e.sequenceNumber !== 3)));
    await waitFor(
      "checkpoints past the hanging events",
      async () => [...(await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "hung")).values()].filter((s) => s === 5).length === 4,
      30_000,
      () => worker.describe(),
    );
    const letters = await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, "hung");
    expect([...letters.keys()].sort()).toEqual(hanging.map((e) => `hung/ai-workers/${e.partitionId}/3.json`).sort());
    for (const letter of letters.values()) {
      expect(letter.error).toMatchObject({ name: "ProcessingTimeoutError", attempts: 2, message: expect.stringMatching(/PROCESSOR_TIMEOUT_MS \(500 ms\)/) });
    }
    worker.signal("SIGTERM");
    expect((await exitOf(worker, 20_000)).code).toBe(0);
  });

  it("at shutdown, a partition stuck in a call does not keep the others from being checkpointed", async () => {
    const sent = await sendToEveryPartition(stack.eventHubConnectionString, "stuck", 6);
    const worker = workers.start("stuck", "stuck", {
      PROCESSOR: hangingModule,
      HANG_PARTITION: "2",
      PROCESSOR_TIMEOUT_MS: "600000",
      SHUTDOWN_TIMEOUT_MS: "5000",
      CHECKPOINT_EVERY_EVENTS: "1000000",
      CHECKPOINT_EVERY_MS: "3600000",
    });
    const healthy = sent.filter((e) => e.partitionId !== "2");
    await waitFor("the healthy partitions' events", () => keysOf(worker.results).size >= healthy.length, 40_000, () => worker.describe());
    expect(keysOf(worker.results)).toEqual(keysOf(healthy)); // partition 2's batch is held by the call

    worker.signal("SIGTERM");
    const exit = await exitOf(worker, 30_000);
    expect(exit.code).toBe(1); // the stuck call outlived SHUTDOWN_TIMEOUT_MS
    const checkpoints = await readCheckpoints(stack.storageConnectionString, stack.checkpointContainer, "stuck");
    expect(["0", "1", "3"].map((p) => checkpoints.get(p))).toEqual([5, 5, 5]);
    expect(checkpoints.get("2") ?? -1).toBeLessThan(3);
  }, 120_000);
});
