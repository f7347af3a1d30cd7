// The worker image without a Docker engine (none on this machine): the Dockerfile's own stages are followed
// here (imageRoot.ts: the worker compiled by the build stage's command, the runtime stage's COPYs, only the
// worker's declared dependencies), and its ENTRYPOINT and HEALTHCHECK, parsed from the file, run there against
// the emulator + Azurite; the image's contents (its context filter, COPY lines and production dependencies)
// are checked against the worker's module graph. Set WORKER_IMAGE_ROOT to a directory laid out like the
// image's WORKDIR (a real production install, package.json and the compiled worker) to run the same
// entrypoint against exactly what the image holds.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../emulator";
import { WORKER_METRICS_PORT } from "../../common/names";
import { waitFor } from "../../tools/wait-for";
import { isStartedMessage } from "../../tools/worker-process";
import { FAST_WORKER_ENV, type LogLine, type ResultLine } from "../support/worker-process";
import { envOf, execForm, healthcheckOf, inBuildContext, instructions, only, parseDockerfile } from "./dockerfile";
import { assembleImage, contextSources } from "./imageRoot";
import { moduleGraph, packageName } from "../support/module-graph";

interface PackageJson {
  name: string;
  workspaces?: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const REPO = path.join(__dirname, "..", "..");
const dockerfile = parseDockerfile(readFileSync(path.join(REPO, "Dockerfile"), "utf8"));
const dockerignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8");
const readPackage = (file: string) => JSON.parse(readFileSync(path.join(REPO, file), "utf8")) as PackageJson;
const rootPackage = readPackage("package.json");
const workerPackage = readPackage("worker/package.json");
const { runtime } = dockerfile;
const stage = (name: string) => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`the Dockerfile has no ${name} stage`);
  return found;
};
const entrypoint = execForm(only(runtime, "ENTRYPOINT"));
const imageEnv = envOf(runtime);
const healthcheck = healthcheckOf(runtime);

/** The worker script the entrypoint runs: its last argument, compiled JavaScript. */
const entryScript = () => {
  const script = entrypoint.at(-1)!;
  if (!script.endsWith(".js")) throw new Error(`ENTRYPOINT does not end in a .js file: ${JSON.stringify(entrypoint)}`);
  return script;
};

/** The worker's entry points: its CLI and the thread entries the pool loads by file name (pool.ts). */
const workerEntries = [
  path.join(REPO, "worker", "cli.ts"),
  ...readdirSync(path.join(REPO, "worker", "processing"))
    .filter((file) => file.endsWith("-thread.ts"))
    .map((file) => path.join(REPO, "worker", "processing", file)),
];

// The image's WORKDIR: assembled from the Dockerfile's stages unless WORKER_IMAGE_ROOT names a real one.
let scratch: string | undefined;
let imageRoot = process.env.WORKER_IMAGE_ROOT ?? "";
beforeAll(() => {
  if (imageRoot) return;
  scratch = mkdtempSync(path.join(tmpdir(), "worker-image-"));
  imageRoot = assembleImage(REPO, dockerfile, dockerignore, scratch);
}, 180_000);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the packages", () => {
  it("the worker is a workspace of the root, so one lockfile and one plain npm ci install every program", () => {
    expect(rootPackage.workspaces).toEqual(["worker", "component"]);
    // `pulumi up` runs the root program on what `npm ci` installs at the root.
    expect(rootPackage.dependencies).toHaveProperty(["@pulumi/pulumi"]);
    expect(rootPackage.dependencies).toHaveProperty(["@pulumi/azure-native"]);
    // The root's scripts run sources through tsx; nothing that runs in production needs it.
    expect(rootPackage.dependencies).not.toHaveProperty(["tsx"]);
    expect(rootPackage.devDependencies).toHaveProperty(["tsx"]);
  });

  it("pins a package both declare to one version, so the lockfile holds one copy", () => {
    const root = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
    const worker = { ...workerPackage.dependencies, ...workerPackage.devDependencies };
    for (const [name, version] of Object.entries(worker)) if (name in root) expect(root[name], name).toBe(version);
  });
});

describe("the Dockerfile", () => {
  it("builds in stages on node:24-slim, installing the worker's production dependencies only, and runs as a non-root user", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    for (const s of dockerfile.stages) expect(s.image).toBe("node:24-slim");
    const install = `npm ci --omit=dev --omit=optional --workspace ${workerPackage.name} --include-workspace-root=false`;
    expect(instructions(stage("deps"), "RUN").some((run) => run.startsWith(install))).toBe(true);
    expect(instructions(runtime, "COPY")).toContain("--from=deps /app/node_modules ./node_modules");
    expect(instructions(runtime, "RUN")).toEqual([]); // nothing installed or built into the final image
    const user = only(runtime, "USER");
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it("compiles the worker in a build stage with the worker's own build script, and the runtime takes only its output", () => {
    expect(instructions(stage("build"), "RUN").at(-1)).toBe(`npm run build --workspace ${workerPackage.name}`);
    expect(workerPackage.scripts.build).toBe("tsc -p tsconfig.build.json");
    expect(instructions(runtime, "COPY").filter((args) => args.startsWith("--from="))).toEqual([
      "--from=deps /app/node_modules ./node_modules",
      "--from=build /app/dist ./",
    ]);
  });

  it("runs `npm run worker`'s command on the compiled worker in one node process: no npm, no shell, no tsx", () => {
    expect(entrypoint[0]).toBe("node");
    expect(entrypoint.slice(1, -1).every((arg) => arg.startsWith("--"))).toBe(true); // only node's own options before
    expect(entrypoint.some((arg) => /tsx|^--(import|require|loader|experimental-loader)$|^-r$/.test(arg))).toBe(false);
    // The same node options; npm runs the sources through tsx. exec: npm signals node itself.
    const fromSources = [...entrypoint.slice(0, -1), "--import", "tsx", entryScript().replace(/\.js$/, ".ts")];
    expect(rootPackage.scripts.worker).toBe(`exec ${fromSources.join(" ")}`);
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
  const graph = moduleGraph(workerEntries);

  it("compiles every source file the worker loads: the build stage copies each, and the build context lets each through", () => {
    const sources = contextSources(stage("build"));
    expect(workerEntries.map((file) => path.basename(file))).toEqual(expect.arrayContaining(["cli.ts", "text-insights-thread.ts", "module-thread.ts"]));
    expect(graph.files.size).toBeGreaterThan(10);
    for (const file of graph.files) {
      const relative = path.relative(REPO, file).split(path.sep).join("/");
      expect(inBuildContext(dockerignore, relative), `${relative} is excluded by .dockerignore`).toBe(true);
      expect(sources.some((s) => relative === s || relative.startsWith(`${s}/`)), `${relative} is not copied`).toBe(true);
      expect(existsSync(path.join(imageRoot, relative.replace(/\.ts$/, ".js"))), `${relative} has no compiled .js in the image`).toBe(true);
    }
    // The context filter keeps out what must never reach an image.
    for (const excluded of ["node_modules/typescript/package.json", ".git/config", "test/stack/programHarness.ts", "tools/dev.ts", "Pulumi.dev.yaml", "index.ts", "infra/workerApp.ts"]) {
      expect(inBuildContext(dockerignore, excluded), excluded).toBe(false);
    }
  });

  it("declares exactly the packages the worker imports, and needs only those at run time (no tsx, no Pulumi, no page libraries)", () => {
    const builtins = new Set(builtinModules);
    const external = (imports: Map<string, string>) =>
      [...imports].filter(([specifier]) => !specifier.startsWith("node:") && !builtins.has(specifier));
    const needed = external(graph.packages);
    for (const [specifier, importer] of needed) {
      expect(workerPackage.dependencies, `${specifier} (imported by ${path.relative(REPO, importer)})`).toHaveProperty([packageName(specifier)]);
    }
    // Packages imported only for types (e.g. @azure/core-auth's TokenCredential) are declared too.
    const imported = new Set([...needed, ...external(graph.typePackages)].map(([specifier]) => packageName(specifier)));
    expect(Object.keys(workerPackage.dependencies).sort()).toEqual([...imported].sort());
    for (const absent of ["tsx", "@pulumi/pulumi", "@pulumi/azure-native", "preact", "htm"]) expect(workerPackage.dependencies).not.toHaveProperty([absent]);
  });
});

/** The image's command, from its WORKDIR, with its ENV; test settings only make it fast and local. */
class ImageProcess {
  readonly logs: LogLine[] = [];
  readonly results: ResultLine[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Reported over IPC once the worker listens (tools/worker-process.ts says why not from the logs). */
  private port: number | undefined;

  constructor(env: Record<string, string>) {
    this.child = spawn(entrypoint[0]!, entrypoint.slice(1), {
      cwd: imageRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...imageEnv, ...FAST_WORKER_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child.on("message", (message) => {
      if (isStartedMessage(message)) this.port = message.workerStarted.metricsPort;
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.results.push(JSON.parse(line) as ResultLine));
    createInterface({ input: this.child.stderr! }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 0, msg: line, pid: 0 });
      }
    });
  }

  metricsPort(): number | undefined {
    return this.port;
  }

  describe = (): string => this.logs.slice(-10).map((l) => `${l.level} ${l.msg}`).join("\n");

  async ready(): Promise<void> {
    await waitFor("the metrics server", () => this.metricsPort() !== undefined, 40_000, this.describe);
    await waitFor(
      "/readyz 200",
      async () => (await fetch(`http://127.0.0.1:${this.metricsPort()}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      this.describe,
    );
  }

  async resultOf(messageId: string): Promise<ResultLine> {
    await waitFor(`the result of ${messageId} on stdout`, () => this.results.some((r) => r.messageId === messageId), 30_000, this.describe);
    return this.results.find((r) => r.messageId === messageId)!;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

async function send(stack: LocalStack, hub: string, messageId: string, partitionId: string): Promise<void> {
  const producer = new EventHubProducerClient(stack.eventHubConnectionString, hub, {
    retryOptions: { maxRetries: 2, retryDelayInMs: 100, timeoutInMs: 5000 },
  });
  try {
    await producer.sendBatch([{ body: { text: "The parcel arrived broken, please refund me." }, messageId }], { partitionId });
  } finally {
    await producer.close();
  }
}

describe("the image's entrypoint and health check, run against the emulator", () => {
  let stack: LocalStack;
  let worker: ImageProcess | undefined;

  const runHealthcheck = (port: number) =>
    spawnSync(healthcheck.command[0]!, healthcheck.command.slice(1), {
      cwd: imageRoot,
      env: { PATH: process.env.PATH ?? "", ...imageEnv, METRICS_PORT: String(port) },
      timeout: 15_000,
    }).status;

  beforeAll(async () => {
    stack = await startLocalStack({
      config: {
        hubs: [
          { name: "image", partitionCount: 2, consumerGroups: ["ai-workers"] },
          { name: "image-module", partitionCount: 1, consumerGroups: ["ai-workers"] },
        ],
      },
    });
    worker = new ImageProcess({ ...stack.env(), EVENTHUB_NAME: "image" });
  });
  afterAll(async () => {
    await worker?.kill();
    await stack?.stop();
  });

  it("starts as PID of its own (signals reach the worker itself) and passes the HEALTHCHECK", async () => {
    await waitFor("the metrics server", () => worker!.metricsPort() !== undefined, 40_000, worker!.describe);
    expect(worker!.logs.find((l) => l.pid > 0)?.pid).toBe(worker!.child.pid);
    expect(runHealthcheck(worker!.metricsPort()!)).toBe(0);
  });

  it("becomes ready and processes an event on the compiled text-insights thread", async () => {
    await worker!.ready();
    await send(stack, "image", "image-1", "1");
    expect(await worker!.resultOf("image-1")).toMatchObject({ partitionId: "1", sequenceNumber: 0, result: { sentiment: expect.anything() } });
    // The pool's threads gauge reads the processor the worker started: at least the thread that ran the event.
    const metrics = await (await fetch(`http://127.0.0.1:${worker!.metricsPort()}/metrics`)).text();
    expect(Number(/^worker_processing_threads (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("stops cleanly on SIGTERM, as a container runtime sends it, and then fails the HEALTHCHECK", async () => {
    const port = worker!.metricsPort()!;
    worker!.child.kill("SIGTERM");
    const giveUp = new AbortController();
    const code = await Promise.race([
      worker!.exited,
      sleep(25_000, "timeout" as const, { signal: giveUp.signal }).catch(() => "timeout" as const),
    ]).finally(() => giveUp.abort());
    expect(code, worker!.describe()).toBe(0);
    expect(worker!.logs.some((l) => l.msg === "shutdown complete")).toBe(true);
    expect(runHealthcheck(port)).toBe(1);
  });

  it("runs a TypeScript processor module given as PROCESSOR=<path> through Node's type stripping (no tsx in the image)", async () => {
    // As a module mounted into the container: outside the image's files, no package.json beside it.
    const moduleDir = mkdtempSync(path.join(tmpdir(), "processor-module-"));
    const modulePath = path.join(moduleDir, "word-count.ts");
    copyFileSync(path.join(REPO, "worker", "processing", "examples", "word-count.ts"), modulePath);
    const moduleWorker = new ImageProcess({ ...stack.env(), EVENTHUB_NAME: "image-module", PROCESSOR: modulePath });
    try {
      await moduleWorker.ready();
      await send(stack, "image-module", "module-1", "0");
      expect((await moduleWorker.resultOf("module-1")).result).toMatchObject({ words: 7, top: expect.any(Array) });
    } finally {
      await moduleWorker.kill();
      rmSync(moduleDir, { recursive: true, force: true });
    }
  });
});
