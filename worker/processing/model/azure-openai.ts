// PROCESSOR=azure-openai: a deployment of Azure OpenAI, with an API key or Entra ID.
import { defineProcessor } from "../../plugins";
import { httpUrl, matching, text } from "../../settings/values";
import { MODEL_SETTINGS, modelConflicts, modelOptions, startModelProcessor } from "./model-processor";

const GROUP = "Azure OpenAI (PROCESSOR=azure-openai):";

export const azureOpenAIProcessor = defineProcessor({
  name: "azure-openai",
  settings: {
    ...MODEL_SETTINGS,
    AZURE_OPENAI_ENDPOINT: { group: GROUP, value: httpUrl("https://<resource>.openai.azure.com"), help: "https://<resource>.openai.azure.com (required for azure-openai)" },
    AZURE_OPENAI_DEPLOYMENT: { group: GROUP, value: text, help: "deployment name (required for azure-openai)" },
    AZURE_OPENAI_API_VERSION: { group: GROUP, value: matching("a date-style API version such as 2024-10-21", /^\d{4}-\d{2}-\d{2}(-preview)?$/),
      default: "2024-10-21", help: "API version" },
    AZURE_OPENAI_API_KEY: { group: GROUP, value: text, secret: true, help: "API key; unset = Entra ID via DefaultAzureCredential" },
  },
  required: ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT"],
  conflicts: (values) => modelConflicts(values),
  options: (values) =>
    modelOptions(values, {
      provider: "azure-openai",
      endpoint: values.AZURE_OPENAI_ENDPOINT ?? "",
      deployment: values.AZURE_OPENAI_DEPLOYMENT ?? "",
      apiVersion: values.AZURE_OPENAI_API_VERSION,
      ...(values.AZURE_OPENAI_API_KEY ? { apiKey: values.AZURE_OPENAI_API_KEY } : {}),
    }),
  create(options, runtime) {
    const { connection } = options.endpoint;
    const needsCredential = connection.provider === "azure-openai" && connection.apiKey === undefined;
    const endpoint = needsCredential ? { ...options.endpoint, connection: { ...connection, credential: runtime.credential() } } : options.endpoint;
    return startModelProcessor({ ...options, endpoint }, runtime);
  },
});
