// What a fresh Node process has really loaded once an entry is imported, as the programs run it (tsx): the
// module graph (module-graph.ts) follows every import a file could make; this sees which ones it did.
import { execFile } from "node:child_process";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { packageName } from "./module-graph";

const REPO = join(__dirname, "..", "..");

/** The project files and the packages loaded by `require(entry)` in a fresh process. */
export async function loadedBy(entry: string): Promise<{ files: string[]; packages: Set<string> }> {
  const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "-e", script], { cwd: REPO, timeout: 60_000 });
  const loaded = (JSON.parse(stdout) as string[]).map((file) => relative(REPO, file).split("\\").join("/"));
  const inPackages = (file: string) => file.startsWith("node_modules/");
  const packages = new Set(loaded.filter(inPackages).map((file) => packageName(file.slice("node_modules/".length))));
  return { files: loaded.filter((file) => !inPackages(file)), packages };
}
