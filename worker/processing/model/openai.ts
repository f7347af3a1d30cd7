// PROCESSOR=openai: OpenAI, or any server with an OpenAI-compatible API (Ollama, vLLM, LM Studio, llama.cpp): a
// MODEL_DEPLOYMENTS list of one, written as settings of its own.
import { defineProcessor } from "../../plugins";
import { httpUrl, text } from "../../settings/values";
import { DEFAULT_OPENAI_BASE_URL } from "./deployments";
import { MODEL_SETTINGS, modelOptions, singleDeploymentConflicts } from "./model-settings";
import { loadModelProcessor } from "./load-model-processor";

const GROUP = "OpenAI or an OpenAI-compatible server such as Ollama, vLLM, LM Studio, llama.cpp (PROCESSOR=openai):";

export const openAIProcessor = defineProcessor({
  name: "openai",
  settings: {
    ...MODEL_SETTINGS,
    OPENAI_BASE_URL: { group: GROUP, value: httpUrl("http://127.0.0.1:11434/v1"), default: DEFAULT_OPENAI_BASE_URL,
      help: "the API's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama or http://127.0.0.1:8000/v1 for vLLM" },
    OPENAI_API_KEY: { group: GROUP, value: text, secret: true, help: "API key (local servers usually need none)" },
    OPENAI_MODEL: { group: GROUP, value: text, help: "model name, e.g. gpt-4o-mini, text-embedding-3-small, llama3.1 (required for openai)" },
  },
  required: ["OPENAI_MODEL"],
  conflicts: (values) => singleDeploymentConflicts(values, "openai"),
  options: (values) => {
    const model = values.OPENAI_MODEL ?? "";
    return modelOptions(values, [
      {
        name: model,
        priority: 0,
        weight: 1,
        quota: {},
        connection: { provider: "openai", baseUrl: values.OPENAI_BASE_URL, model, ...(values.OPENAI_API_KEY ? { apiKey: values.OPENAI_API_KEY } : {}) },
      },
    ]);
  },
  create: (options, runtime) => loadModelProcessor("openai", options, runtime),
});
