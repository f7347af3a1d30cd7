import { ProcessingPool } from "./pool";
import type { Processor } from "./processor";
import { resolveUserModulePath, UserModuleError } from "./user-module";

export interface ModuleProcessorOptions {
  /** Absolute, or relative to the working directory. */
  modulePath: string;
  threads: number;
  maxQueue: number;
  /** Longest one event may take (PROCESSOR_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * Runs a user's module (see examples/word-count.ts) on the worker-thread pool. Every thread imports the
 * module and runs its init() before the processor is returned, so a missing file, a module without a
 * process function, or a failing init() stops start-up with an error naming the path.
 */
export async function createModuleProcessor(options: ModuleProcessorOptions): Promise<Processor> {
  const modulePath = resolveUserModulePath(options.modulePath);
  try {
    return await ProcessingPool.start({
      name: `module:${modulePath}`,
      entry: "module-thread",
      threads: options.threads,
      maxQueue: options.maxQueue,
      timeoutMs: options.timeoutMs,
      workerData: { modulePath },
    });
  } catch (error) {
    if (error instanceof Error && error.name === "UserModuleError") throw new UserModuleError(error.message);
    throw new UserModuleError(`processor module "${modulePath}" failed to start: ${(error as Error).message}`);
  }
}
