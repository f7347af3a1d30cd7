// A fresh local stack (our Event Hubs emulator + Azurite, in this process; bench/stack-process.ts runs it in a
// child for the latency runs) for one measurement, with a consumer group per configuration so each reads the
// same stored events from the start. Also reads the worker's own defaults, so the baselines use exactly the
// settings the worker runs with.
import { availableParallelism } from "node:os";
import { startLocalStack, type LocalStack } from "../emulator/index";
import { validateSettings, type WorkerConfig } from "../worker/config";

export const HUB = "events";
export const PARTITIONS = 4;
export const WORKER_CONSUMER_GROUP = "ai-workers";
export const SAMPLE_CONSUMER_GROUP = "bench-sample";
export const SAMPLE_BATCHED_CONSUMER_GROUP = "bench-sample-batched";
export const RAW_CONSUMER_GROUP = "$Default";

export async function startBenchStack(): Promise<LocalStack> {
  return startLocalStack({
    config: {
      hubs: [{ name: HUB, partitionCount: PARTITIONS, consumerGroups: [WORKER_CONSUMER_GROUP, SAMPLE_CONSUMER_GROUP, SAMPLE_BATCHED_CONSUMER_GROUP] }],
      maxMemoryBytes: 2 * 1024 ** 3,
    },
  });
}

/** The worker's configuration when only the connection settings are given: its real defaults on this machine. */
export function workerDefaults(stack: Pick<LocalStack, "env">, overrides: Record<string, string> = {}): WorkerConfig {
  const parsed = validateSettings({ ...stack.env(), ...overrides });
  if (parsed.kind !== "ok") throw new Error(`the local stack's settings do not make a valid worker configuration: ${JSON.stringify(parsed)}`);
  return parsed.config;
}

export function describeMachine(): { cpus: number; node: string; platform: string } {
  return { cpus: availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}` };
}
