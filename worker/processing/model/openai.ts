// PROCESSOR=openai: OpenAI, or any server with an OpenAI-compatible API (Ollama, vLLM, LM Studio, llama.cpp).
import { defineProcessor } from "../../plugins";
import { httpUrl, text } from "../../settings/values";
import { MODEL_SETTINGS, modelConflicts, modelOptions, startModelProcessor } from "./model-processor";

const GROUP = "OpenAI or an OpenAI-compatible server such as Ollama, vLLM, LM Studio, llama.cpp (PROCESSOR=openai):";

export const openAIProcessor = defineProcessor({
  name: "openai",
  settings: {
    ...MODEL_SETTINGS,
    OPENAI_BASE_URL: { group: GROUP, value: httpUrl("http://127.0.0.1:11434/v1"), default: "https://api.openai.com/v1",
      help: "the API's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama or http://127.0.0.1:8000/v1 for vLLM" },
    OPENAI_API_KEY: { group: GROUP, value: text, secret: true, help: "API key (local servers usually need none)" },
    OPENAI_MODEL: { group: GROUP, value: text, help: "model name, e.g. gpt-4o-mini, text-embedding-3-small, llama3.1 (required for openai)" },
  },
  required: ["OPENAI_MODEL"],
  conflicts: (values) => modelConflicts(values),
  options: (values) =>
    modelOptions(values, {
      provider: "openai",
      baseUrl: values.OPENAI_BASE_URL,
      model: values.OPENAI_MODEL ?? "",
      ...(values.OPENAI_API_KEY ? { apiKey: values.OPENAI_API_KEY } : {}),
    }),
  create: (options, runtime) => startModelProcessor(options, runtime),
});
