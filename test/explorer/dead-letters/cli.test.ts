// `npm run dead-letters` end to end: a real worker dead-letters poison events into Azurite; the CLI lists, shows,
// replays and purges them against the emulator. The command lines run in this process (runDeadLetters, what the
// program runs); two run as a user runs them, a child process, for the exit codes and streams the program hands on.
import { Readable, Writable } from "node:stream";
import { BlobServiceClient } from "@azure/storage-blob";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../../emulator";
import { runDeadLetters } from "../../../explorer/dead-letters/cli";
import { replayDeadLetters, REPLAY_ID_PROPERTY, SOURCE_PROPERTY } from "../../../explorer/dead-letters/replay";
import { DeadLetterStore, MARK, parseDeadLetterId } from "../../../explorer/dead-letters/store";
import { fourPartitionHubs, readDeadLetters, sendToEveryPartition } from "../../support/hub-fixtures";
import { runProgram } from "../../support/program";
import { waitFor } from "../../../tools/wait-for";
import { type TestWorker, WorkerFleet } from "../../support/worker-process";
import { readHub } from "../hub-events";

let stack: LocalStack;
let worker: TestWorker;
const workers = new WorkerFleet(() => stack.env());
const HUB = "letters";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const settings = (env: Record<string, string>) => ({ ...stack.env(), EVENTHUB_NAME: HUB, ...env });

/** A command line run in this process, with the letters hub's settings for environment and no terminal. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const output = { stdout: "", stderr: "" };
  const into = (stream: keyof typeof output) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        output[stream] += chunk.toString();
        done();
      },
    });
  const code = await runDeadLetters(args, { env: settings(env), stdout: into("stdout"), stderr: into("stderr"), stdin: Readable.from([]) });
  return { code, ...output };
}

/** The same command line as a user runs it: `npm run dead-letters`'s command, a child process. */
async function cliProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { status, stdout, stderr } = await runProgram("explorer/dead-letters/cli.ts", args, settings(env), 45_000);
  return { code: status, stdout, stderr };
}

const container = () => BlobServiceClient.fromConnectionString(stack.storageConnectionString).getContainerClient(stack.deadLetterContainer);
const lettersOf = async (hub: string) => readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, hub);
const withSource = async (hub: string, source: string) => (await readHub(stack.eventHubConnectionString, hub)).filter((e) => e.properties[SOURCE_PROPERTY] === source);

beforeAll(async () => {
  stack = await startLocalStack({ config: fourPartitionHubs(HUB, "elsewhere") });
  // Poison at index 3 of every partition: four dead letters, letters/ai-workers/<p>/3.
  await sendToEveryPartition(stack.eventHubConnectionString, HUB, 8, (i) => i === 3);
  worker = workers.start("letters", HUB);
  await waitFor("four dead letters", async () => (await lettersOf(HUB)).size === 4, 45_000, () => worker.describe());
}, 90_000);
afterAll(async () => {
  await workers.disposeAll();
  await stack?.stop();
});

describe("npm run dead-letters", () => {
  it("lists with filters and shows one dead letter with body, properties, position and error", async () => {
    const all = await cliProcess(["list"]);
    expect(all.code, all.stderr).toBe(0);
    for (const p of ["0", "1", "2", "3"]) expect(all.stdout).toMatch(new RegExp(`^letters/ai-workers/${p}/3\\s+pending\\s`, "m"));
    expect(all.stdout).toContain("4 dead letters");

    const one = await cli(["list", "--partition", "2", "--json"]);
    expect(JSON.parse(one.stdout).map((e: { id: string }) => e.id)).toEqual(["letters/ai-workers/2/3"]);
    expect((await cli(["list", "--error", "NOT VALID json"])).stdout).toContain("4 dead letters");
    expect((await cli(["list", "--error", "no such error"])).stdout).toBe("no dead letters match\n");
    expect((await cli(["list", "--since", "1h", "--until", "2999-01-01T00:00:00Z"])).stdout).toContain("4 dead letters");
    expect((await cli(["list", "--until", "1h"])).stdout).toBe("no dead letters match\n");

    const shown = await cli(["show", "letters/ai-workers/2/3"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("position:        partition 2, sequence number 3, offset");
    expect(shown.stdout).toContain("message id:      p2-3");
    expect(shown.stdout).toMatch(/error:\s+PoisonEventError: .*not valid JSON/);
    expect(shown.stdout).toContain("replay:          pending (never replayed)");
    expect(shown.stdout).toContain('body (utf8):\n{"text":"M\n');

    const missing = await cli(["show", "letters/ai-workers/2/999"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter letters/ai-workers/2/999 in container "dead-letters"');
  });

  it("reports every bad input at once with exit code 2 and touches nothing", async () => {
    const run = await cliProcess(["purge", "nope", "--partition", "x", "--since", "yesterday", "--state", "gone", "--limit", "0"], { EVENTHUB_NAME: "bad name!" });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('dead-letter id "nope": allowed: <hub>/<consumer group>/<partition>/<sequence number>');
    expect(run.stderr).toContain("--partition: allowed: partition ids separated by commas");
    expect(run.stderr).toContain('--since: "yesterday": allowed: an ISO 8601 time');
    expect(run.stderr).toContain("--state: allowed: pending | in-flight | replayed | all");
    expect(run.stderr).toContain("--limit: allowed: an integer from 1 to 100000");
    expect(run.stderr).toContain('EVENTHUB_NAME (--eventhub-name) = "bad name!"');
    const bare = await cli(["replay"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("replay needs a selection: dead-letter ids, a filter");
    expect(await lettersOf(HUB)).toHaveProperty("size", 4);
  });

  it("replays once: the worker receives the original event with its source, and a second replay sends nothing", async () => {
    const first = await cli(["replay", "letters/ai-workers/1/3"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^replayed\s+letters\/ai-workers\/1\/3 -> letters \(replay id [0-9a-f-]{36}\)$/m);
    const second = await cli(["replay", "letters/ai-workers/1/3", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject([{ id: "letters/ai-workers/1/3", result: "already-replayed" }]);

    // Still poison: the worker dead-letters the replayed copy again, in the same partition, carrying its source.
    await waitFor("the replayed copy dead-lettered again", async () => (await lettersOf(HUB)).size === 5, 30_000, () => worker.describe());
    const again = [...(await lettersOf(HUB)).values()].find((l) => (l.properties as Record<string, unknown>)[SOURCE_PROPERTY] === "letters/ai-workers/1/3");
    expect(again).toMatchObject({ partitionId: "1", messageId: "p1-3", body: { encoding: "utf8" } });
    const sent = await withSource(HUB, "letters/ai-workers/1/3");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ partitionId: "1", messageId: "p1-3" });

    const shown = await cli(["show", "letters/ai-workers/1/3"]);
    expect(shown.stdout).toMatch(/replay:\s+replayed at \S+ to letters \(replay id [0-9a-f-]{36}\)/);
  });

  it("lets exactly one of two concurrent replays send", async () => {
    const store = new DeadLetterStore(container());
    const id = parseDeadLetterId("letters/ai-workers/0/3")!;
    const [a, b] = await Promise.all([store.get(id), store.get(id)]);
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
    try {
      const outcomes = (await Promise.all([a!, b!].map((entry) => replayDeadLetters(container(), [entry], { producer, sameHub: true })))).flat();
      expect(outcomes.map((o) => o.result).sort()).toEqual(["conflict", "replayed"]);
    } finally {
      await producer.close();
    }
    expect(await withSource(HUB, "letters/ai-workers/0/3")).toHaveLength(1);
  });

  it("resends an abandoned in-flight claim with the same replay id, and leaves a fresh claim alone", async () => {
    const blob = container().getBlobClient("letters/ai-workers/3/3.json");
    const claimedAt = (ago: number) => new Date(Date.now() - ago).toISOString();
    await blob.setMetadata({ [MARK.state]: "in-flight", [MARK.replayId]: "fresh-claim", [MARK.claimedAt]: claimedAt(1000), [MARK.target]: HUB });
    const busy = await cli(["replay", "letters/ai-workers/3/3", "--json"]);
    expect(JSON.parse(busy.stdout)).toMatchObject([{ result: "in-flight", replayId: "fresh-claim" }]);
    expect(await withSource(HUB, "letters/ai-workers/3/3")).toHaveLength(0);

    // A replay that died between send and mark two minutes ago: at-least-once, under the same replay id.
    await blob.setMetadata({ [MARK.state]: "in-flight", [MARK.replayId]: "crashed-replay", [MARK.claimedAt]: claimedAt(120_000), [MARK.target]: HUB });
    const resumed = await cli(["replay", "--partition", "3", "--state", "in-flight", "--json"]);
    expect(JSON.parse(resumed.stdout)).toMatchObject([{ id: "letters/ai-workers/3/3", result: "replayed", replayId: "crashed-replay" }]);
    const sent = await withSource(HUB, "letters/ai-workers/3/3");
    expect(sent.map((e) => e.properties[REPLAY_ID_PROPERTY])).toEqual(["crashed-replay"]);
  });

  it("replays to another hub with --to-eventhub-name", async () => {
    const run = await cli(["replay", "letters/ai-workers/2/3", "--to-eventhub-name", "elsewhere"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^replayed\s+letters\/ai-workers\/2\/3 -> elsewhere/m);
    const there = await withSource("elsewhere", "letters/ai-workers/2/3");
    expect(there).toHaveLength(1);
    expect(there[0]?.messageId).toBe("p2-3");
  });

  it("purges only what was replayed, and only after confirmation", async () => {
    // The four originals, all replayed, and the copies of the three replayed back to this hub, dead-lettered again.
    await waitFor("seven dead letters", async () => (await lettersOf(HUB)).size === 7, 30_000, () => worker.describe());
    const before = [...(await lettersOf(HUB)).keys()].sort();
    const refused = await cli(["purge", "--all"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("purge: refusing to delete 4 dead letters without confirmation: stdin is not a terminal; pass --yes to confirm");
    expect([...(await lettersOf(HUB)).keys()].sort()).toEqual(before);

    const purged = await cli(["purge", "--all", "--yes"]);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toContain("4 deleted");
    // The copies the worker dead-lettered again were never replayed themselves: they stay.
    const left = await cli(["list", "--json"]);
    const remaining = JSON.parse(left.stdout) as Array<{ id: string; replay: { state: string } }>;
    expect(remaining.map((e) => e.replay.state)).toEqual(["pending", "pending", "pending"]);

    const kept = await cli(["purge", remaining[0]!.id, "--yes"]);
    expect(kept.stderr).toContain("not purged: 1 given dead letter not yet replayed (add --state all to purge those too)");
    expect(await lettersOf(HUB)).toHaveProperty("size", 3);
  });

  it("keeps a poison event's partition key in its dead letter and replays with it", async () => {
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, HUB);
    try {
      await producer.sendBatch([{ body: Buffer.from('{"text": "cut'), contentType: "application/json", messageId: "keyed" }], { partitionKey: "customer-7" });
    } finally {
      await producer.close();
    }
    await waitFor("the keyed dead letter", async () => [...(await lettersOf(HUB)).values()].some((l) => l.messageId === "keyed"), 30_000, () => worker.describe());
    const [name, letter] = [...(await lettersOf(HUB))].find(([, l]) => l.messageId === "keyed")!;
    expect(letter.partitionKey).toBe("customer-7");
    const id = name.replace(/\.json$/, "");
    const run = await cli(["replay", id]);
    expect(run.code, run.stderr).toBe(0);
    const sent = await withSource(HUB, id);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ partitionKey: "customer-7", partitionId: letter.partitionId });
  });

  it("does not replay a dead letter whose body the worker could not store", async () => {
    const record = {
      eventHubName: "elsewhere", consumerGroup: "ai-workers", partitionId: "1", sequenceNumber: 7, offset: "0",
      enqueuedTimeUtc: new Date().toISOString(), properties: {}, body: { encoding: "omitted", data: null },
      error: { name: "PoisonEventError", message: "nested too deep", attempts: 1 }, deadLetteredAt: new Date().toISOString(),
    };
    const json = JSON.stringify(record);
    await container().getBlockBlobClient("elsewhere/ai-workers/1/7.json").upload(json, Buffer.byteLength(json));
    const run = await cli(["replay", "elsewhere/ai-workers/1/7"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failed           elsewhere/ai-workers/1/7: its body was not stored (encoding "omitted"): there is nothing to replay');
    expect(await withSource("elsewhere", "elsewhere/ai-workers/1/7")).toHaveLength(0);
    expect((await cli(["list", "--eventhub-name", "elsewhere", "--state", "pending", "--json"])).stdout).toContain("elsewhere/ai-workers/1/7");
  });
});
