// The chaos run's processor module (PROCESSOR=<this file>, run on the worker's thread pool like any
// custom module): the default text-insights analysis, plus an echo of what the processor actually
// received, so the harness can tell a corrupted body from a good one: the SHA-256 of the body and the
// producer's stamp; and the worker process's pid, because results are read back from blobs, where
// nothing else says which process wrote a line. Poison events fail inside text-insights exactly as they
// would with the default processor (PoisonEventError: no text field).
import { analyzeEvent } from "../../worker/processing/text-insights";
import type { EventInput } from "../../worker/processing/processor";
import { bodyBytesOf, sha256 } from "./stamped-events";

export interface IntegrityResult {
  receivedSha256: string;
  stamp: Record<string, unknown>;
  sentiment: string;
  workerPid: number;
}

export function process(input: EventInput): IntegrityResult {
  const insights = analyzeEvent(input);
  const { chaosRunId, chaosIndex, chaosPartition, chaosSha256 } = input.properties;
  return {
    receivedSha256: sha256(bodyBytesOf(input.body)),
    stamp: { chaosRunId, chaosIndex, chaosPartition, chaosSha256 },
    sentiment: insights.sentiment.label,
    workerPid: globalThis.process.pid, // `process` here is this module's export
  };
}
