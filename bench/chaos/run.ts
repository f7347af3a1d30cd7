// `npm run chaos [-- --duration 60 --workers 3 --rate 200 --faults all]`: see harness.ts. Prints the
// per-partition verdict, writes chaos-latest.json (bench/results/ for the reference run: results-dir.ts), exits 1
// when the verdict fails.
import { writeResults } from "../results-dir";
import { runChaos } from "./harness";
import { parseChaosOptions } from "./options";
import { renderChaosReport } from "./report";

async function main(): Promise<void> {
  const { outDir, ...options } = parseChaosOptions(process.argv.slice(2));
  const outcome = await runChaos(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(renderChaosReport(outcome));
  if (!outcome.verdict.ok && outcome.diagnostics) process.stderr.write(`${outcome.diagnostics}\n`);
  const { diagnostics: _diagnostics, ...saved } = outcome;
  process.stderr.write(`${await writeResults(outDir, { "chaos-latest.json": `${JSON.stringify({ date: new Date().toISOString(), ...saved }, null, 2)}\n` })}\n`);
  process.exitCode = outcome.verdict.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
