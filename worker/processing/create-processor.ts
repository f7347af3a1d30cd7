import { ChatProcessor, type ChatTaskOptions } from "./model/chat-processor";
import { EmbeddingsProcessor, type EmbeddingsTaskOptions } from "./model/embeddings-processor";
import { ModelEndpoint, type ModelEndpointOptions } from "./model/model-endpoint";
import { createModuleProcessor, type ModuleProcessorOptions } from "./module-processor";
import { ProcessingPool } from "./pool";
import type { Processor } from "./processor";

/** What a remote model is asked to do with each event. */
export type ModelTask = ({ kind: "chat" } & ChatTaskOptions) | ({ kind: "embeddings" } & EmbeddingsTaskOptions);

export type ProcessorOptions =
  | { kind: "text-insights"; threads: number; maxQueue: number; timeoutMs: number }
  | { kind: "model"; endpoint: ModelEndpointOptions; task: ModelTask; onEndpoint?: (endpoint: ModelEndpoint) => void }
  | ({ kind: "module" } & ModuleProcessorOptions); // user module, run on the pool

/** Builds the configured processor; pool-backed ones resolve once every thread has loaded its model or module. */
export async function createProcessor(options: ProcessorOptions): Promise<Processor> {
  switch (options.kind) {
    case "text-insights":
      return ProcessingPool.start({ name: "text-insights", entry: "text-insights-thread", threads: options.threads, maxQueue: options.maxQueue, timeoutMs: options.timeoutMs });
    case "model": {
      const endpoint = new ModelEndpoint(options.endpoint);
      options.onEndpoint?.(endpoint);
      const { task } = options;
      return task.kind === "embeddings" ? new EmbeddingsProcessor(endpoint, task) : new ChatProcessor(endpoint, task);
    }
    case "module":
      return createModuleProcessor(options);
  }
}
