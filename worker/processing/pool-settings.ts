// The settings of processors that run on the worker-thread pool (text-insights and user modules).
import { availableParallelism } from "node:os";
import type { Values } from "../settings/declare";
import { integer } from "../settings/values";

const GROUP = "Processing threads (PROCESSOR=text-insights or a module):";

export const POOL_SETTINGS = {
  PROCESSOR_THREADS: { group: GROUP, value: integer(1, 256), default: String(availableParallelism()),
    defaultShown: "CPUs", help: "most worker threads for text-insights and module processors (one runs always, the others while there is work for them); they run at a lower priority than the main thread, which takes its share of a core first" },
  PROCESSOR_THREAD_IDLE_MS: { group: GROUP, value: integer(100, 86_400_000), default: "15000",
    help: "a processing thread beyond the first stops after this long without work (ms), giving its memory back; it starts again (about 0.1 s of CPU compiled, 0.3 s from sources under tsx) when every running thread is busy" },
  PROCESSOR_TIMEOUT_MS: { group: GROUP, value: integer(10, 3_600_000), default: "30000",
    help: "longest one event may take on a processing thread (ms); then it fails (retried, then dead-lettered) and a thread stuck in code that never yields is replaced" },
  PROCESSOR_MAX_QUEUE: { group: GROUP, value: integer(1, 1_000_000), default: "1000",
    help: "a safety cap on tasks (a batch's share per thread) waiting for a pool thread. The working bound is two batches in flight per owned partition" },
} as const;

export interface PoolOptions {
  threads: number;
  idleThreadMs: number;
  maxQueue: number;
  /** Longest one event may take on a thread (PROCESSOR_TIMEOUT_MS). */
  timeoutMs: number;
}

export function poolOptions(values: Values<typeof POOL_SETTINGS>): PoolOptions {
  return { threads: values.PROCESSOR_THREADS, idleThreadMs: values.PROCESSOR_THREAD_IDLE_MS, maxQueue: values.PROCESSOR_MAX_QUEUE, timeoutMs: values.PROCESSOR_TIMEOUT_MS };
}
