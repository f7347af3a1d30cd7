// `npm run settings-table`: writes the worker settings table in docs/configuration.md from the settings'
// declarations (the worker's core settings and each sink's and processor's module). test/worker/config.test.ts fails while
// the table is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { settingsTable, workerSettings } from "../worker/index";
import { plural } from "../common/plural";

/** The page that holds the table, under the heading `## Worker settings`. */
export const SETTINGS_DOC = join(__dirname, "..", "docs", "configuration.md");
export const SETTINGS_HEADING = "## Worker settings";
const HEADER = "| Env var | Default | Meaning |";

/** The table's lines in the page: from its header to the first line that is not a table row. */
function tableBounds(page: string): { start: number; end: number } {
  const heading = page.indexOf(`\n${SETTINGS_HEADING}\n`);
  const start = heading < 0 ? -1 : page.indexOf(`${HEADER}\n`, heading);
  if (start < 0) throw new Error(`${SETTINGS_DOC} has no "${HEADER}" table under "${SETTINGS_HEADING}"`);
  const after = page.slice(start).search(/\n(?!\|)/);
  return { start, end: after < 0 ? page.length : start + after };
}

export function readSettingsTable(page: string): string {
  const { start, end } = tableBounds(page);
  return page.slice(start, end);
}

if (require.main === module) {
  void workerSettings().then((settings) => {
    const page = readFileSync(SETTINGS_DOC, "utf8");
    const { start, end } = tableBounds(page);
    writeFileSync(SETTINGS_DOC, page.slice(0, start) + settingsTable(settings) + page.slice(end));
    console.log(`docs/configuration.md: worker settings table written (${plural(Object.keys(settings).length, "setting")})`);
  });
}
