import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EventHubProducerClient } from "@azure/event-hubs";
import { ContainerClient } from "@azure/storage-blob";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/wait-for";

const root = path.resolve(__dirname, "../..");
const retryOptions = { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 };
const workDir = mkdtempSync(path.join(os.tmpdir(), "eh-cli-"));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Run {
  // As `npm run emulator` runs it: node with tsx's loader, no wrapper process, so SIGTERM reaches the emulator.
  const child = spawn(process.execPath, ["--import", "tsx", "emulator/cli.ts", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const NAMES = ["EVENTHUB_CONNECTION_STRING", "EVENTHUB_NAME", "EVENTHUB_CONSUMER_GROUP", "STORAGE_CONNECTION_STRING", "CHECKPOINT_CONTAINER", "DEAD_LETTER_CONTAINER", "KAFKA_BOOTSTRAP_SERVERS"];

describe("npm run emulator (child process)", () => {
  it("prints the six NAME=value lines and KAFKA_BOOTSTRAP_SERVERS once ready, serves them, and exits 0 on SIGTERM", async () => {
    const configFile = path.join(workDir, "Config.json");
    writeFileSync(configFile, JSON.stringify({ UserConfig: { NamespaceConfig: [{ Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "eh1", PartitionCount: "3", ConsumerGroups: [{ Name: "cg1" }] }] }], LoggingConfig: { Type: "File" } } }));
    const run = runCli(["--port", "0", "--blob-port", "0", "--kafka-port", "0", "--health-port", "0", "--config", configFile, "--data-dir", path.join(workDir, "data"), "--no-check-signatures", "--retention-hours", "2"]);
    await waitFor("the seven lines on stdout", () => run.stdout().split("\n").length > NAMES.length, 30_000, () => run.stderr());
    const lines = run.stdout().trimEnd().split("\n");
    expect(lines.map((line) => line.slice(0, line.indexOf("=")))).toEqual(NAMES);
    const env = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    expect(env.EVENTHUB_CONNECTION_STRING).toMatch(/^Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true$/);
    expect(env.EVENTHUB_CONNECTION_STRING).not.toContain("EntityPath");
    expect(env.KAFKA_BOOTSTRAP_SERVERS).toMatch(/^127\.0\.0\.1:\d+$/);
    expect([env.EVENTHUB_NAME, env.EVENTHUB_CONSUMER_GROUP, env.CHECKPOINT_CONTAINER, env.DEAD_LETTER_CONTAINER]).toEqual(["eh1", "cg1", "checkpoints-cg1", "dead-letters"]);

    // --no-check-signatures: a wrong key is accepted.
    const wrongKey = env.EVENTHUB_CONNECTION_STRING!.replace("SAS_KEY_VALUE", "not-the-key");
    const producer = new EventHubProducerClient(wrongKey, env.EVENTHUB_NAME!, { retryOptions });
    try {
      expect((await producer.getEventHubProperties()).partitionIds).toEqual(["0", "1", "2"]);
    } finally {
      await producer.close();
    }
    expect(await new ContainerClient(env.STORAGE_CONNECTION_STRING!, env.CHECKPOINT_CONTAINER!).exists()).toBe(true);

    const ready = run.stderr().split("\n").filter(Boolean).map((line) => JSON.parse(line) as { msg: string; healthUrl?: string }).find((entry) => entry.msg.includes("ready"));
    expect(ready?.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health$/);
    const health = await fetch(ready!.healthUrl!);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", kafka: { up: true, port: Number(env.KAFKA_BOOTSTRAP_SERVERS?.split(":")[1]) }, hubs: [{ name: "eh1", partitionCount: 3 }] });

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.stdout().trimEnd().split("\n")).toHaveLength(NAMES.length); // logs never go to stdout
    expect(run.stderr()).toContain("shutting down");
  });

  it.each([
    [["--bogus"], /unknown option '--bogus'/],
    [["--port", "70000"], /--port <port>' argument '70000' is invalid\. expected a port number from 0 to 65535/],
    [["--retention-hours", "0"], /--retention-hours <hours>' argument '0' is invalid\. expected a number of hours greater than 0/],
  ])("exits 2 with a clear message for bad flags %j", async (args, message) => {
    const run = runCli(args);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stdout()).toBe("");
  });

  it("exits 2 naming the file, the path and the rule for a bad config file", async () => {
    const bad = path.join(workDir, "bad.json");
    writeFileSync(bad, JSON.stringify({ hubs: [{ name: "events", partitionCount: 64 }], retentionHours: "long" }));
    const run = runCli(["--port", "0", "--blob-port", "0", "--kafka-port", "0", "--config", bad]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(`Invalid emulator configuration (${bad})`);
    expect(run.stderr()).toContain("hubs[0].partitionCount: must be a whole number from 1 to 32 (got 64)");
    expect(run.stderr()).toContain('retentionHours: must be a number of hours');
    expect(run.stdout()).toBe("");

    const notJson = path.join(workDir, "broken.json");
    writeFileSync(notJson, "{ hubs: ");
    const second = runCli(["--config", notJson]);
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toMatch(/broken\.json\):\n {2}- not valid JSON/);
  });
});
