// The documentation's commands and links, checked without running anything long: every `npm run <script>` in
// README.md and docs/*.md names a script of package.json (or of the workspace it names), every `bash <file>` and
// `tsx <file>` a file that exists, every flag and subcommand given to one of our own programs is one it declares,
// and every relative link, #anchors included, resolves. The README stays a front door of at most 300 lines.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { moduleGraph } from "../support/module-graph";

const ROOT = resolve(__dirname, "..", "..");
const README = join(ROOT, "README.md");
const PAGES = [README, ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => join(ROOT, "docs", name))];

interface PackageJson {
  name: string;
  scripts?: Record<string, string>;
  workspaces?: string[];
}
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as PackageJson;
const rootPackage = readJson(join(ROOT, "package.json"));
const workspaceScripts = new Map(
  (rootPackage.workspaces ?? []).map((folder) => {
    const workspace = readJson(join(ROOT, folder, "package.json"));
    return [workspace.name, workspace.scripts ?? {}] as const;
  }),
);

const pageName = (page: string) => relative(ROOT, page);
const text = (page: string) => readFileSync(page, "utf8");
/** The page without fenced code blocks and inline code, where links are not links. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");

interface NpmRun {
  page: string;
  script: string;
  workspace: string | undefined;
  /** What follows ` -- `: the program's own arguments. */
  args: string;
}

/** Every `npm run [-s] <script> ...` and `npm test`, each up to where the shell command or the code span ends. */
function npmRuns(page: string): NpmRun[] {
  const runs: NpmRun[] = [];
  for (const match of text(page).matchAll(/\bnpm (?:run(?:\s+-s)?\s+([a-z][\w:.-]*)|(test)\b)([^`\n]*)/g)) {
    const rest = match[3]!.split(/\s#\s|\s\|\s|&&|;|\)|\s>\s|\s&(?:\s|$)/)[0]!;
    const [own, args = ""] = rest.split(/(?:^|\s)--(?:\s|$)/, 2);
    runs.push({ page: pageName(page), script: match[1] ?? match[2]!, workspace: /--workspace\s+(\S+)/.exec(own!)?.[1], args });
  }
  return runs;
}

const RUNS = PAGES.flatMap(npmRuns);

/** The TypeScript entry a package.json script runs (`node --import tsx tools/dev.ts`, `tsx bench/run.ts`). */
function entryOf(script: string): string {
  const entry = rootPackage.scripts?.[script]?.split(/\s+/).find((word) => word.endsWith(".ts"));
  if (entry === undefined) throw new Error(`npm run ${script} runs no TypeScript file: ${rootPackage.scripts?.[script]}`);
  return entry;
}

/** The source text of a program: its entry and every file it loads, where its flags and subcommands are declared. */
const sourceOf = (script: string) => [...moduleGraph([join(ROOT, entryOf(script))]).files].map((file) => readFileSync(file, "utf8")).join("\n");

describe("documented commands", () => {
  it("finds the commands it checks", () => {
    const scripts = new Set(RUNS.map((run) => run.script));
    for (const script of ["test", "dev", "worker", "emulator", "send", "explorer", "dead-letters", "bench", "chaos", "settings-table"]) expect(scripts).toContain(script);
  });

  it("names only scripts that exist, in the root package or the workspace given", () => {
    const unknown = RUNS.filter((run) => !(run.workspace === undefined ? rootPackage.scripts : workspaceScripts.get(run.workspace))?.[run.script]);
    expect(unknown.map((run) => `${run.page}: npm run ${run.script}${run.workspace ? ` --workspace ${run.workspace}` : ""}`)).toEqual([]);
  });

  it("names only files that exist for bash and tsx", () => {
    const files = PAGES.flatMap((page) =>
      [...text(page).matchAll(/\b(?:bash|tsx)\s+((?:\.{0,2}\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:sh|ts)|\.ci\/run)\b/g)].map((match) => ({ page: pageName(page), file: match[1]! })),
    );
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining([".ci/run", ".ci/install-node.sh", ".ci/install-python-clients.sh"]));
    expect(files.filter((f) => !existsSync(join(ROOT, f.file))).map((f) => `${f.page}: ${f.file}`)).toEqual([]);
  });

  it("gives our programs only flags and subcommands they declare", () => {
    // Read from the source (commander's .option("--count <n>") and .command("list")), not from --help: starting
    // a dozen programs would cost this test about 20 s of CPU.
    const problems: string[] = [];
    const sources = new Map<string, string>();
    let flagsChecked = 0;
    for (const run of RUNS) {
      const words = run.args.trim().split(/\s+/).filter(Boolean);
      const subcommand = words[0] !== undefined && /^[a-z]+$/.test(words[0]) ? words[0] : undefined;
      const flags = [...run.args.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g)].map((match) => match[1]!).filter((flag) => flag !== "--help");
      if (flags.length === 0 && subcommand === undefined) continue;
      const source = sources.get(run.script) ?? sourceOf(run.script);
      sources.set(run.script, source);
      if (subcommand !== undefined && !new RegExp(`[cC]ommand\\(\\s*["'\`]${subcommand}["'\`]`).test(source)) problems.push(`${run.page}: npm run ${run.script} -- ${subcommand}: no such subcommand`);
      for (const flag of flags) {
        flagsChecked++;
        if (!new RegExp(`["'\`]${flag}(?![\\w-])`).test(source)) problems.push(`${run.page}: npm run ${run.script} -- ${flag}: no such flag`);
      }
    }
    expect(flagsChecked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2, ... */
function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of text(page).replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").toLowerCase().replace(/[^\p{L}\p{M}\p{N} _-]/gu, "").replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe("documentation links", () => {
  it("resolves every relative link and #anchor in README.md and docs/", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      for (const match of prose(text(page)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = match[1]!;
        if (/^[a-z][\w+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path = "", anchor] = target.split("#", 2);
        const file = path === "" ? page : resolve(dirname(page), decodeURIComponent(path));
        checked++;
        if (!existsSync(file)) broken.push(`${pageName(page)}: ${target} (no such file)`);
        else if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor)) broken.push(`${pageName(page)}: ${target} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });

  it("keeps the README a front door: at most 300 lines", () => {
    expect(text(README).split("\n").length - 1).toBeLessThanOrEqual(300);
  });

  it("computes GitHub's anchors", () => {
    const anchors = anchorsOf(join(ROOT, "docs", "deploy.md"));
    expect(anchors).toContain("run-the-workers-on-azure-container-apps--keda");
    expect(anchors).toContain("what-pulumi-up-creates");
  });
});
