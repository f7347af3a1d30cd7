// Where a benchmark writes. bench/results/ holds the committed results of each benchmark's reference run
// (the command the docs quote them from); any other run (--quick, a subset, other sizes or repetitions)
// writes to bench/results/scratch/, which git ignores, so a smoke run cannot overwrite them. --out wins.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { REPO_ROOT } from "../tools/ts-child";

export const RESULTS_DIR = "bench/results";
export const SCRATCH_DIR = "bench/results/scratch";

/**
 * The directory a run writes to, relative to the repository: `out` when given, else bench/results/ when
 * every option the reference names has the reference's value, else bench/results/scratch/.
 */
export function resultsDirectory(out: string | undefined, options: object, reference: object): string {
  if (out !== undefined) return out;
  const given = options as Record<string, unknown>;
  const isReference = Object.entries(reference).every(([key, value]) => isDeepStrictEqual(given[key], value));
  return isReference ? RESULTS_DIR : SCRATCH_DIR;
}

/** Writes `files` (name -> text) into `directory` and returns the line that says where they went. */
export async function writeResults(directory: string, files: Record<string, string>): Promise<string> {
  const absolute = resolve(REPO_ROOT, directory);
  await mkdir(absolute, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(absolute, name), text);
  const names = Object.keys(files).map((name) => join(directory, name));
  const scratch = absolute === resolve(REPO_ROOT, SCRATCH_DIR);
  return `wrote ${names.join(", ")}${scratch ? ` (not the reference run, so the results in ${RESULTS_DIR}/ stay as they are; --out ${RESULTS_DIR} replaces them)` : ""}`;
}
