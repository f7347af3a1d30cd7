// The processors PROCESSOR can choose, in the order --help and docs/configuration.md list them. A new processor is a
// module that exports a defineProcessor(...) plugin, plus its line here.
import { createFromConfig, type PluginConfig, type PluginRuntime } from "../plugins";
import { azureOpenAIProcessor } from "./model/azure-openai";
import { modelProcessor } from "./model/model-deployments-processor";
import { openAIProcessor } from "./model/openai";
import { moduleProcessor } from "./module-processor";
import type { Processor } from "./processor";
import { textInsightsProcessor } from "./text-insights-processor";

export const PROCESSORS = [textInsightsProcessor, modelProcessor, azureOpenAIProcessor, openAIProcessor, moduleProcessor] as const;

export type ProcessorConfig = PluginConfig<(typeof PROCESSORS)[number]>;

/** Builds the configured processor. */
export function startProcessor(config: ProcessorConfig, runtime: PluginRuntime): Promise<Processor> {
  return createFromConfig(PROCESSORS, config, runtime);
}
