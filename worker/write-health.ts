// Whether the worker's writes (results to the sink, dead letters) currently succeed, for readiness: a worker
// whose writes all fail cannot move any partition, so it must not report ready.
import type { DeadLetterRecord } from "../common/dead-letter-record";
import type { ResultRecord, Sink } from "./sinks/sink";
import { errorFields } from "./telemetry/logger";

interface Failure {
  since: number;
  lastAttemptAt: number;
  message: string;
}

/**
 * Per partition, the latest write decides: one that failed makes the destination unhealthy until a later
 * write for that partition succeeds. A failure with no attempt for `staleAfterMs` no longer counts: the
 * partition was closed (given up or lost) and nothing retries it here any more.
 */
export class WriteHealth {
  private readonly failures = new Map<string, Failure>();

  constructor(
    private readonly destination: string,
    private readonly staleAfterMs: number,
  ) {}

  async track<T>(partitionId: string, write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.failures.delete(partitionId);
      return result;
    } catch (error) {
      const now = Date.now();
      const failure = this.failures.get(partitionId) ?? { since: now, lastAttemptAt: now, message: "" };
      failure.lastAttemptAt = now;
      failure.message = errorFields(error).message;
      this.failures.set(partitionId, failure);
      throw error;
    }
  }

  /** Why writes are failing, or undefined while they succeed. */
  problem(): string | undefined {
    const now = Date.now();
    const failing = [...this.failures].filter(([, f]) => now - f.lastAttemptAt <= this.staleAfterMs);
    if (failing.length === 0) return undefined;
    const [, first] = failing.reduce((a, b) => (b[1].since < a[1].since ? b : a));
    const partitions = failing.map(([p]) => p).sort().join(", ");
    return `${this.destination} writes failing for ${Math.round((now - first.since) / 1000)} s (partitions ${partitions}): ${first.message}`;
  }
}

export function trackedSink(sink: Sink, health: WriteHealth): Sink {
  return {
    write: (records: ResultRecord[]) => health.track(records[0]?.partitionId ?? "", () => sink.write(records)),
    close: () => sink.close(),
  };
}

export function trackedDeadLetters(store: { put(record: DeadLetterRecord): Promise<void> }, health: WriteHealth): { put(record: DeadLetterRecord): Promise<void> } {
  return { put: (record) => health.track(record.partitionId, () => store.put(record)) };
}
