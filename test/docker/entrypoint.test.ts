// The worker image without a Docker engine (none on this machine): the Dockerfile's own ENTRYPOINT and
// HEALTHCHECK, parsed from the file, run here against the emulator + Azurite; the image's contents (its
// context filter, COPY lines and production dependencies) are checked against the worker's module graph.
// Set WORKER_IMAGE_ROOT to a directory laid out like the image's WORKDIR (production node_modules, package.json,
// worker/) to run the same entrypoint against exactly what the image holds.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { WORKER_METRICS_PORT } from "../../infra/workerApp";
import { waitFor } from "../../tools/wait-for";
import { isStartedMessage } from "../../tools/worker-process";
import { FAST_WORKER_ENV, type LogLine, type ResultLine } from "../support/worker-process";
import { envOf, execForm, healthcheckOf, inBuildContext, instructions, only, parseDockerfile } from "./dockerfile";
import { moduleGraph, packageName } from "./moduleGraph";

const REPO = path.join(__dirname, "..", "..");
const IMAGE_ROOT = process.env.WORKER_IMAGE_ROOT ?? REPO;
const dockerfile = parseDockerfile(readFileSync(path.join(REPO, "Dockerfile"), "utf8"));
const dockerignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8");
const packageJson = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const { runtime } = dockerfile;
const entrypoint = execForm(only(runtime, "ENTRYPOINT"));
const imageEnv = envOf(runtime);
const healthcheck = healthcheckOf(runtime);

/** The worker script the entrypoint runs: the argument ending in .ts. */
const entryScript = () => {
  const script = entrypoint.find((arg) => arg.endsWith(".ts"));
  if (!script) throw new Error(`ENTRYPOINT runs no .ts file: ${JSON.stringify(entrypoint)}`);
  return script;
};

/** COPY sources taken from the build context (not from another stage). */
const copiedFromContext = () =>
  instructions(runtime, "COPY")
    .filter((args) => !args.startsWith("--from"))
    .flatMap((args) => args.split(/\s+/).filter((a) => !a.startsWith("--")).slice(0, -1));

describe("the Dockerfile", () => {
  it("builds in stages on node:24-slim, installing production dependencies only, and runs as a non-root user", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(stage.image).toBe("node:24-slim");
    const deps = dockerfile.stages.find((s) => instructions(s, "RUN").some((run) => run.includes("npm ci --omit=dev")));
    expect(deps, "a stage running npm ci --omit=dev").toBeDefined();
    expect(deps).not.toBe(runtime);
    expect(instructions(runtime, "COPY")).toContain(`--from=${deps!.name} /app/node_modules ./node_modules`);
    expect(instructions(runtime, "RUN")).toEqual([]); // nothing installed or built into the final image
    const user = only(runtime, "USER");
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it("runs `npm run worker`'s command in one node process with tsx's loader: no npm, no shell, no tsx CLI", () => {
    expect(entrypoint[0]).toBe("node");
    expect(entrypoint.slice(-3)).toEqual(["--import", "tsx", entryScript()]);
    expect(entrypoint.slice(1, -3).every((arg) => arg.startsWith("--"))).toBe(true); // only node's own options before
    expect(packageJson.scripts.worker).toBe(`exec ${entrypoint.join(" ")}`); // exec: npm signals node itself
    expect(instructions(runtime, "CMD")).toEqual([]);
    expect(only(runtime, "WORKDIR")).toBe("/app");
  });

  it("serves probes on the port the stack probes: METRICS_PORT, EXPOSE and the Container App agree", () => {
    expect(imageEnv.METRICS_PORT).toBe(String(WORKER_METRICS_PORT));
    expect(only(runtime, "EXPOSE")).toBe(String(WORKER_METRICS_PORT));
    expect(healthcheck.command[0]).toBe("node");
    expect(healthcheck.command.join(" ")).toContain("/healthz");
    expect(healthcheck.options).toMatchObject({ interval: expect.any(String), timeout: expect.any(String) });
  });
});

describe("what the image holds", () => {
  const graph = moduleGraph(path.join(REPO, entryScript()));

  it("copies every source file the worker loads, and the build context lets each through", () => {
    const sources = copiedFromContext();
    expect(sources).toContain("package.json");
    expect(graph.files.size).toBeGreaterThan(10);
    for (const file of graph.files) {
      const relative = path.relative(REPO, file).split(path.sep).join("/");
      expect(inBuildContext(dockerignore, relative), `${relative} is excluded by .dockerignore`).toBe(true);
      expect(sources.some((s) => relative === s || relative.startsWith(`${s}/`)), `${relative} is not copied`).toBe(true);
    }
    // The context filter keeps out what must never reach an image.
    for (const excluded of ["node_modules/typescript/package.json", ".git/config", "test/stack/programHarness.ts", "tools/dev.ts", "Pulumi.dev.yaml"]) {
      expect(inBuildContext(dockerignore, excluded), excluded).toBe(false);
    }
  });

  it("needs only production dependencies (and tsx, the loader) at run time", () => {
    const builtins = new Set(builtinModules);
    const needed = new Map([...graph.packages].filter(([specifier]) => !specifier.startsWith("node:") && !builtins.has(specifier)));
    needed.set(entrypoint[entrypoint.indexOf("--import") + 1]!, "ENTRYPOINT");
    for (const [specifier, importer] of needed) {
      expect(packageJson.dependencies, `${specifier} (imported by ${path.relative(REPO, importer)})`).toHaveProperty([packageName(specifier)]);
    }
  });
});

describe("the image's entrypoint and health check, run against the emulator", () => {
  let stack: LocalStack;
  let worker: ChildProcess | undefined;
  const logs: LogLine[] = [];
  const results: ResultLine[] = [];
  let exited: Promise<number | null>;

  const runHealthcheck = (port: number) =>
    spawnSync(healthcheck.command[0]!, healthcheck.command.slice(1), {
      cwd: IMAGE_ROOT,
      env: { PATH: process.env.PATH ?? "", ...imageEnv, METRICS_PORT: String(port) },
      timeout: 15_000,
    }).status;
  // Reported over IPC once the worker listens (tools/worker-process.ts explains why not from the logs).
  let startedPort: number | undefined;
  const metricsPort = () => startedPort;
  const describeWorker = () => logs.slice(-10).map((l) => `${l.level} ${l.msg}`).join("\n");

  beforeAll(async () => {
    stack = await startLocalStack({ config: { hubs: [{ name: "image", partitionCount: 2, consumerGroups: ["ai-workers"] }] } });
    // Exactly the image's command, from its WORKDIR, with its ENV; test settings only make it fast and local.
    worker = spawn(entrypoint[0]!, entrypoint.slice(1), {
      cwd: IMAGE_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...imageEnv, ...FAST_WORKER_ENV, ...stack.env(), EVENTHUB_NAME: "image" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    worker.on("message", (message) => {
      if (isStartedMessage(message)) startedPort = message.workerStarted.metricsPort;
    });
    exited = new Promise((resolve) => worker!.once("exit", (code) => resolve(code)));
    createInterface({ input: worker.stdout! }).on("line", (line) => results.push(JSON.parse(line) as ResultLine));
    createInterface({ input: worker.stderr! }).on("line", (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 0, msg: line, pid: 0 });
      }
    });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill("SIGKILL");
      await exited;
    }
    await stack?.stop();
  });

  it("starts as PID of its own (signals reach the worker itself) and passes the HEALTHCHECK", async () => {
    await waitFor("the metrics server", () => metricsPort() !== undefined, 40_000, describeWorker);
    expect(logs.find((l) => l.pid > 0)?.pid).toBe(worker!.pid);
    expect(runHealthcheck(metricsPort()!)).toBe(0);
  });

  it("becomes ready and processes an event", async () => {
    await waitFor(
      "/readyz 200",
      async () => (await fetch(`http://127.0.0.1:${metricsPort()}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      describeWorker,
    );
    const producer = new EventHubProducerClient(stack.eventHubConnectionString, "image", {
      retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 },
    });
    try {
      await producer.sendBatch([{ body: { text: "The parcel arrived broken, please refund me." }, messageId: "image-1" }], { partitionId: "1" });
    } finally {
      await producer.close();
    }
    await waitFor("the event's result on stdout", () => results.some((r) => r.messageId === "image-1"), 30_000, describeWorker);
    expect(results.find((r) => r.messageId === "image-1")).toMatchObject({ partitionId: "1", sequenceNumber: 0, result: expect.anything() });
  });

  it("stops cleanly on SIGTERM, as a container runtime sends it, and then fails the HEALTHCHECK", async () => {
    const port = metricsPort()!;
    worker!.kill("SIGTERM");
    const giveUp = new AbortController();
    const code = await Promise.race([
      exited,
      sleep(25_000, "timeout" as const, { signal: giveUp.signal }).catch(() => "timeout" as const),
    ]).finally(() => giveUp.abort());
    expect(code, describeWorker()).toBe(0);
    expect(logs.some((l) => l.msg === "shutdown complete")).toBe(true);
    expect(runHealthcheck(port)).toBe(1);
  });
});
