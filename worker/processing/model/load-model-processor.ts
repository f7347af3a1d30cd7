// The model processors' runtime (model-processor.ts: the router, the OpenAI client, the tokenizer's tables) is
// imported only when PROCESSOR=model|azure-openai|openai starts; their settings are in model-settings.ts.
import type { PluginRuntime } from "../../plugins";
import type { Processor } from "../processor";
import type { ModelProcessorOptions } from "./model-settings";

export async function loadModelProcessor(name: string, options: ModelProcessorOptions, runtime: PluginRuntime): Promise<Processor> {
  return (await import("./model-processor.js")).startModelProcessor(name, options, runtime);
}
