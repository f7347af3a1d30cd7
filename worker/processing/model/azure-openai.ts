// PROCESSOR=azure-openai: one deployment of Azure OpenAI, with an API key or Entra ID (a MODEL_DEPLOYMENTS list
// of one, written as settings of its own).
import { defineProcessor } from "../../plugins";
import { httpUrl, matching, text } from "../../settings/values";
import { AZURE_OPENAI_API_VERSION, DEFAULT_AZURE_OPENAI_API_VERSION } from "./deployments";
import { MODEL_SETTINGS, modelOptions, singleDeploymentConflicts } from "./model-settings";
import { loadModelProcessor } from "./load-model-processor";

const GROUP = "Azure OpenAI (PROCESSOR=azure-openai):";

export const azureOpenAIProcessor = defineProcessor({
  name: "azure-openai",
  settings: {
    ...MODEL_SETTINGS,
    AZURE_OPENAI_ENDPOINT: { group: GROUP, value: httpUrl("https://<resource>.openai.azure.com"), help: "https://<resource>.openai.azure.com (required for azure-openai)" },
    AZURE_OPENAI_DEPLOYMENT: { group: GROUP, value: text, help: "deployment name (required for azure-openai)" },
    AZURE_OPENAI_API_VERSION: { group: GROUP, value: matching("a date-style API version such as 2024-10-21", AZURE_OPENAI_API_VERSION),
      default: DEFAULT_AZURE_OPENAI_API_VERSION, help: "API version" },
    AZURE_OPENAI_API_KEY: { group: GROUP, value: text, secret: true, help: "API key; unset = Entra ID via DefaultAzureCredential" },
  },
  required: ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT"],
  conflicts: (values) => singleDeploymentConflicts(values, "azure-openai"),
  options: (values) => {
    const deployment = values.AZURE_OPENAI_DEPLOYMENT ?? "";
    return modelOptions(values, [
      {
        name: deployment,
        priority: 0,
        weight: 1,
        quota: {},
        connection: {
          provider: "azure-openai",
          endpoint: values.AZURE_OPENAI_ENDPOINT ?? "",
          deployment,
          apiVersion: values.AZURE_OPENAI_API_VERSION,
          ...(values.AZURE_OPENAI_API_KEY ? { apiKey: values.AZURE_OPENAI_API_KEY } : {}),
        },
      },
    ]);
  },
  create: (options, runtime) => loadModelProcessor("azure-openai", options, runtime),
});
