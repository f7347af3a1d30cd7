// The chaos run's processor module (PROCESSOR=<this file>, run on the worker's thread pool like any
// custom module): the default text-insights analysis, plus an echo of what the processor actually
// received, so the harness can tell a corrupted body from a good one: the SHA-256 of the body and the
// producer's stamp; and the worker process's pid, because results are read back from blobs, where
// nothing else says which process wrote a line. Poison events fail inside text-insights exactly as they
// would with the default processor (PoisonEventError: no text field). An event marked `hang` never settles,
// as a stuck model call would (the worker's PROCESSOR_TIMEOUT_MS must end it). With CHAOS_MODEL_URL set,
// every event first asks that model server, as a processor that calls a remote model does: while the model
// is out (503), the failure is transient and the event must wait, never be dead-lettered.
import { analyzeEvent } from "../../worker/processing/text-insights";
import type { EventInput } from "../../worker/index";
import { bodyBytesOf, sha256 } from "./stamped-events";

export interface IntegrityResult {
  receivedSha256: string;
  stamp: Record<string, unknown>;
  sentiment: string;
  workerPid: number;
}

export async function process(input: EventInput): Promise<IntegrityResult> {
  if ((input.body as { hang?: unknown } | null)?.hang === true) return new Promise<never>(() => undefined);
  await askModel();
  const insights = analyzeEvent(input);
  const { chaosRunId, chaosIndex, chaosPartition, chaosSha256 } = input.properties;
  return {
    receivedSha256: sha256(bodyBytesOf(input.body)),
    stamp: { chaosRunId, chaosIndex, chaosPartition, chaosSha256 },
    sentiment: insights.sentiment.label,
    workerPid: globalThis.process.pid, // `process` here is this module's export
  };
}

async function askModel(): Promise<void> {
  const url = globalThis.process.env.CHAOS_MODEL_URL;
  if (!url) return;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "chaos", messages: [{ role: "user", content: "ping" }] }),
  });
  await response.arrayBuffer();
  // The status classifies the failure: 5xx and 429 are transient for the worker.
  if (!response.ok) throw Object.assign(new Error(`the model answered ${response.status}`), { status: response.status });
}
