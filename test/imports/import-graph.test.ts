// The shape of the import graph, over every TypeScript file of the repository, type-only imports included: no
// file reaches itself through its imports, the other rooms reach the worker and the emulator only through their
// public entries, and the worker's telemetry and processing stay apart.
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf } from "../support/module-graph";

const ROOT = join(__dirname, "..", "..");
const SKIPPED = /(^|\/)(node_modules|dist|\.git|\.ci|test-output)(\/|$)/;

const files = (readdirSync(ROOT, { recursive: true, encoding: "utf8" }) as string[])
  .map((file) => file.split("\\").join("/"))
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && !SKIPPED.test(file));
const graph = new Map(files.map((file) => [file, importsOf(join(ROOT, file)).map((target) => relative(ROOT, target).split("\\").join("/"))]));

/** Groups of files that import each other, each as a path from its first file back to it (Tarjan's algorithm). */
function circles(): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (stack.includes(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = member === file ? undefined : stack.pop()) group.push(member);
    if (group.length > 1 || graph.get(file)?.includes(file)) found.push([...group.reverse(), group[0]].join(" -> "));
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** Every import from a file `from` matches to a file `to` matches, as "importer -> imported". */
function importsBetween(from: (file: string) => boolean, to: (file: string) => boolean): string[] {
  return [...graph].filter(([file]) => from(file)).flatMap(([file, targets]) => targets.filter(to).map((target) => `${file} -> ${target}`));
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

describe("the import graph", () => {
  it("reads the whole repository", () => {
    expect(files).toEqual(expect.arrayContaining(["index.ts", "worker/cli.ts", "explorer/cli.ts", "test/imports/import-graph.test.ts"]));
    expect(graph.get("worker/cli.ts")).toContain("worker/index.ts");
  });

  it("has no circles: no file imports itself back through others", () => {
    expect(circles()).toEqual([]);
  });

  it("lets the explorer and the tools reach the worker and the emulator only through their public entries", () => {
    const outside = (file: string) => under("explorer")(file) || under("tools")(file);
    expect(importsBetween(outside, (file) => under("worker")(file) && file !== "worker/index.ts")).toEqual([]);
    expect(importsBetween(outside, (file) => under("emulator")(file) && file !== "emulator/index.ts")).toEqual([]);
  });

  it("keeps the worker's telemetry and processing apart: neither imports the other, and only the telemetry set-up opens spans", () => {
    expect(importsBetween(under("worker/telemetry"), under("worker/processing"))).toEqual([]);
    expect(importsBetween(under("worker/processing"), under("worker/telemetry"))).toEqual([]);
    expect(importsBetween((file) => file !== "worker/telemetry/tracing.ts", (file) => file === "worker/telemetry/spans.ts")).toEqual([]);
  });
});
