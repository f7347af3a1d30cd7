// `npm run chaos [-- --duration 60 --workers 3 --rate 200 --faults all]`: see harness.ts. Prints the
// per-partition verdict, writes bench/results/chaos-latest.json, exits 1 when the verdict fails.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../../tools/ts-child";
import { runChaos } from "./harness";
import { parseChaosOptions } from "./options";
import { renderChaosReport } from "./report";

async function main(): Promise<void> {
  const { outDir, ...options } = parseChaosOptions(process.argv.slice(2));
  const outcome = await runChaos(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(renderChaosReport(outcome));
  if (!outcome.verdict.ok && outcome.diagnostics) process.stderr.write(`${outcome.diagnostics}\n`);
  const directory = resolve(REPO_ROOT, outDir);
  await mkdir(directory, { recursive: true });
  const { diagnostics: _diagnostics, ...saved } = outcome;
  await writeFile(join(directory, "chaos-latest.json"), `${JSON.stringify({ date: new Date().toISOString(), ...saved }, null, 2)}\n`);
  process.exitCode = outcome.verdict.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
