/**
 * Example custom processor module: counts words in each event's text.
 *
 * Copy this file, change `process`, and start the worker with `--processor module --processor-module <path>`
 * (or the matching environment variables; see docs/configuration.md). The module runs inside the worker-thread pool:
 *
 * - `process(input)` (required; a named export, a default export function, or a default export object with
 *   `process`) receives an EventInput: partitionId, sequenceNumber, offset, enqueuedTimeUtc, messageId,
 *   contentType, properties and the decoded `body` (parsed JSON, a string, or a Uint8Array). It returns the
 *   result, or a Promise of it; the result must be JSON-serialisable, it becomes `result` in the sink.
 * - `init()` (optional) runs once per thread before any event: load your model there.
 * - Throw an error named "PoisonEventError" for an event that can never succeed (it is dead-lettered at
 *   once); any other error is retried with backoff and dead-lettered when attempts run out.
 *
 * .js, .mjs and .cjs modules always load. A .ts module loads through tsx under `npm run worker`, and in the
 * image (the compiled worker, no tsx) through Node's type stripping, which takes type annotations and
 * `import type` as here, but not enums or other syntax that needs compiling.
 */
import type { EventInput } from "../processor";

let wordPattern: RegExp;

export function init(): void {
  wordPattern = /[\p{L}\p{N}']+/gu; // stands in for loading a model once per thread
}

export function process(input: EventInput): { words: number; distinct: number; top: Array<[string, number]> } {
  const text = textFrom(input.body);
  const counts = new Map<string, number>();
  for (const [word] of text.toLowerCase().matchAll(wordPattern)) counts.set(word, (counts.get(word) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
  return { words: [...counts.values()].reduce((sum, n) => sum + n, 0), distinct: counts.size, top };
}

function textFrom(body: unknown): string {
  if (typeof body === "string") return body;
  if (typeof body === "object" && body !== null && typeof (body as { text?: unknown }).text === "string") {
    return (body as { text: string }).text;
  }
  // Self-contained on purpose (a copied module need not import the worker): same name, same handling.
  throw Object.assign(new Error('word-count expects a string body or a JSON object with a string "text"'), { name: "PoisonEventError" });
}
