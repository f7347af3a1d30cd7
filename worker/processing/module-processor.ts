import { resolve } from "node:path";
import { defineProcessor } from "../plugins";
import { existingModulePath } from "../settings/values";
import { ProcessingPool } from "./pool";
import { POOL_SETTINGS, poolOptions, type PoolOptions } from "./pool-settings";
import type { Processor } from "./processor";
import { resolveUserModulePath, UserModuleError } from "./user-module";

export interface ModuleProcessorOptions extends PoolOptions {
  /** Absolute, or relative to the working directory. */
  modulePath: string;
}

/**
 * Runs a user's module (see examples/word-count.ts) on the worker-thread pool. The first thread imports the
 * module and runs its init() before the processor is returned, so a missing file, a module without a
 * process function, or a failing init() stops start-up with an error naming the path; a thread started later
 * does the same before its first event.
 */
export async function createModuleProcessor(options: ModuleProcessorOptions): Promise<Processor> {
  const modulePath = resolveUserModulePath(options.modulePath);
  try {
    return await ProcessingPool.start({
      name: `module:${modulePath}`,
      entry: "module-thread",
      threads: options.threads,
      idleThreadMs: options.idleThreadMs,
      maxQueue: options.maxQueue,
      timeoutMs: options.timeoutMs,
      workerData: { modulePath },
    });
  } catch (error) {
    if (error instanceof Error && error.name === "UserModuleError") throw new UserModuleError(error.message);
    throw new UserModuleError(`processor module "${modulePath}" failed to start: ${(error as Error).message}`);
  }
}

/** PROCESSOR=<path>: the user's module on the pool, with the pool's settings. */
export const moduleProcessor = defineProcessor({
  name: "module",
  chosenBy: { allowed: "a path to an existing .js/.ts module", accepts: (raw) => existingModulePath(raw) !== undefined },
  settings: POOL_SETTINGS,
  options: (values, { selection }) => ({ modulePath: resolve(selection.trim()), ...poolOptions(values) }),
  create: (options) => createModuleProcessor(options),
});
