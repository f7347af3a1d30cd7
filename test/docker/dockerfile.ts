// Reads the parts of a Dockerfile and a .dockerignore that the image tests check: stages, their instructions
// (continuation lines joined, comments dropped), exec-form JSON arrays, ENV pairs, and the context filter.

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  /** The FROM image, with build arguments' defaults substituted. */
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  /** The last stage: the image that runs. */
  runtime: Stage;
}

export function parseDockerfile(text: string): Dockerfile {
  const logicalLines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue; // comments inside a continued instruction
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logicalLines.push(pending + line);
    pending = "";
  }

  const buildArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logicalLines) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === "ARG" && stages.length === 0) {
      const [name, value = ""] = args.split("=");
      buildArgs.set(name!.trim(), value.trim());
    } else if (upper === "FROM") {
      const [image = "", , name] = args.split(/\s+/);
      stages.push({ image: image.replace(/\$\{(\w+)\}/g, (_, arg: string) => buildArgs.get(arg) ?? ""), name, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${keyword} before any FROM`);
      stage.instructions.push({ keyword: upper, args });
    }
  }
  const runtime = stages.at(-1);
  if (!runtime) throw new Error("Dockerfile: no FROM");
  return { stages, runtime };
}

export function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The single instruction of a kind in a stage; throws when it is missing or repeated. */
export function only(stage: Stage, keyword: string): string {
  const found = instructions(stage, keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the ${stage.name ?? "last"} stage, found ${found.length}`);
  return found[0]!;
}

/** An exec-form argument list (`["node", "x"]`); shell form is refused, since it puts /bin/sh in front. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

/** `ENV A=1 B=2` pairs of a stage (unquoted or double-quoted values). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructions(stage, "ENV")) {
    for (const match of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[match[1]!] = match[3] ?? match[2]!;
  }
  return env;
}

/** HEALTHCHECK's options and command. */
export function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const args = only(stage, "HEALTHCHECK");
  const at = args.indexOf("CMD ");
  if (at < 0) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  const options = Object.fromEntries([...args.slice(0, at).matchAll(/--([\w-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  return { options, command: execForm(args.slice(at + 4).trim()) };
}

/**
 * Whether a path (relative, with `/`) is in the build context under .dockerignore rules: the last pattern
 * that matches decides; `!` re-includes. Supports what this repository uses: `*`, files and directories.
 */
export function inBuildContext(dockerignore: string, relativePath: string): boolean {
  let included = true;
  for (const raw of dockerignore.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/\/+$/, "");
    if (pattern.includes("*") && pattern !== "*") throw new Error(`unsupported .dockerignore pattern ${line}`);
    const matches = pattern === "*" || relativePath === pattern || relativePath.startsWith(`${pattern}/`);
    if (matches) included = negated;
  }
  return included;
}
