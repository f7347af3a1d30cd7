// `npm run settings-table`: writes the README's worker settings table from the settings' declarations
// (worker/config.ts and each sink's and processor's module). test/worker/config.test.ts fails while the README
// is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../worker/config";
import { settingsTable } from "../worker/settings/declare";
import { plural } from "../common/plural";

const README = join(__dirname, "..", "README.md");
const HEADER = "| Env var | Default | Meaning |";

/** The table's lines in the README: from its header to the first line that is not a table row. */
function tableBounds(readme: string): { start: number; end: number } {
  const start = readme.indexOf(`${HEADER}\n`, readme.indexOf("### Worker settings"));
  if (start < 0) throw new Error(`README.md has no "${HEADER}" table under "### Worker settings"`);
  const after = readme.slice(start).search(/\n(?!\|)/);
  return { start, end: after < 0 ? readme.length : start + after };
}

export function readSettingsTable(readme: string): string {
  const { start, end } = tableBounds(readme);
  return readme.slice(start, end);
}

if (require.main === module) {
  const readme = readFileSync(README, "utf8");
  const { start, end } = tableBounds(readme);
  writeFileSync(README, readme.slice(0, start) + settingsTable(SETTINGS) + readme.slice(end));
  console.log(`README.md: worker settings table written (${plural(Object.keys(SETTINGS).length, "setting")})`);
}
