import { AzureOpenAIProcessor, type AzureOpenAIProcessorOptions } from "./azure-openai";
import { createModuleProcessor } from "./module-processor";
import { ProcessingPool } from "./pool";
import type { Processor } from "./processor";

export type ProcessorOptions =
  | { kind: "text-insights"; threads: number; maxQueue: number }
  | ({ kind: "azure-openai" } & AzureOpenAIProcessorOptions)
  | { kind: "module"; modulePath: string; threads: number; maxQueue: number }; // user module, run on the pool

/** Builds the configured processor; pool-backed ones resolve once every thread has loaded its model or module. */
export async function createProcessor(options: ProcessorOptions): Promise<Processor> {
  switch (options.kind) {
    case "text-insights":
      return ProcessingPool.start({ name: "text-insights", entry: "text-insights-thread", threads: options.threads, maxQueue: options.maxQueue });
    case "azure-openai": {
      const { kind: _kind, ...azureOptions } = options;
      return new AzureOpenAIProcessor(azureOptions);
    }
    case "module":
      return createModuleProcessor(options);
  }
}
