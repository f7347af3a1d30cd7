// The one bounded wait of the tests, benchmarks and tools: poll a condition until it holds, or fail saying
// what was awaited and, through `describe`, what the processes involved were doing.
import { setTimeout as sleep } from "node:timers/promises";

const POLL_INTERVAL_MS = 50;

/**
 * Checks `condition` every 50 ms until it holds; throws after `timeoutMs` (and at most one check per interval).
 * An error thrown by the condition is not retried: it fails the wait at once.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const maxChecks = Math.ceil(timeoutMs / POLL_INTERVAL_MS) + 1;
  for (let check = 1; ; check++) {
    if (await condition()) return;
    if (Date.now() >= deadline || check >= maxChecks) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${describe()}` : ""}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}
