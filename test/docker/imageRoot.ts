// The image's WORKDIR, assembled without a Docker engine by following the Dockerfile. The build stage: what it
// copies from the build context (through .dockerignore) into a scratch directory, the repository's
// node_modules standing in for its npm ci, then its last RUN (the worker's compile). The runtime stage: its
// COPY lines, from the build stage, from the context, and from the deps stage, whose node_modules is stood in
// for by links to the worker's declared dependencies only: tsx and the root's packages are not there.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";
import { inBuildContext, instructions, type Dockerfile, type Stage } from "./dockerfile";

interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

function copiesOf(stage: Stage): Copy[] {
  return instructions(stage, "COPY").map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
    const paths = words.filter((w) => !w.startsWith("--"));
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

/** COPY semantics: a directory's contents go into the destination; a file goes into it when it ends in `/`. */
function copy(source: string, destination: string, filter?: (source: string) => boolean): void {
  if (statSync(source).isDirectory()) {
    cpSync(source, destination, { recursive: true, filter });
    return;
  }
  if (filter && !filter(source)) return;
  const target = destination.endsWith("/") ? path.join(destination, path.basename(source)) : destination;
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(source, target);
}

/** Context sources a stage copies (relative paths as written in the Dockerfile). */
export function contextSources(stage: Stage): string[] {
  return copiesOf(stage)
    .filter((c) => c.from === undefined)
    .flatMap((c) => c.sources);
}

function copyStage(stage: Stage, into: string, repo: string, dockerignore: string, stageDirs: Map<string, string>): void {
  const inContext = (source: string) => inBuildContext(dockerignore, path.relative(repo, source).split(path.sep).join("/"));
  for (const { from, sources, destination } of copiesOf(stage)) {
    const target = path.join(into, destination) + (destination.endsWith("/") || sources.length > 1 ? "/" : "");
    for (const source of sources) {
      if (from === undefined) copy(path.join(repo, source), target, inContext);
      else copy(path.join(stageDirs.get(from) ?? fail(`COPY --from=${from}: unknown stage`), path.relative("/app", source)), target);
    }
  }
}

function fail(message: string): never {
  throw new Error(message);
}

/** Builds the image's WORKDIR under `scratch` (which must exist and be empty) and returns its path. */
export function assembleImage(repo: string, dockerfile: Dockerfile, dockerignore: string, scratch: string): string {
  const stage = (name: string) => dockerfile.stages.find((s) => s.name === name) ?? fail(`no ${name} stage`);
  const stageDirs = new Map<string, string>();

  const deps = path.join(scratch, "deps");
  const { dependencies } = JSON.parse(readFileSync(path.join(repo, "worker", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of Object.keys(dependencies)) {
    // Node resolves a linked package's own imports from its real path, so only the worker's imports are limited.
    mkdirSync(path.dirname(path.join(deps, "node_modules", name)), { recursive: true });
    symlinkSync(path.join(repo, "node_modules", name), path.join(deps, "node_modules", name));
  }
  stageDirs.set("deps", deps);

  const build = path.join(scratch, "build");
  mkdirSync(build);
  symlinkSync(path.join(repo, "node_modules"), path.join(build, "node_modules"));
  copyStage(stage("build"), build, repo, dockerignore, stageDirs);
  const compile = instructions(stage("build"), "RUN").at(-1) ?? fail("the build stage has no RUN");
  const result = spawnSync("sh", ["-c", compile], { cwd: build, encoding: "utf8", timeout: 180_000 });
  if (result.status !== 0) fail(`${compile} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}${result.error ?? ""}`);
  stageDirs.set("build", build);

  const runtime = path.join(scratch, "app");
  mkdirSync(runtime);
  copyStage(dockerfile.runtime, runtime, repo, dockerignore, stageDirs);
  return runtime;
}
