import * as pulumi from "@pulumi/pulumi";
import type { WorkerEnvironment } from "../worker/config";
import type { ModelDeploymentSpec } from "../worker/processing/model/deployments";
import type { ModelConfig } from "./modelConfig";
import { deploymentQuota } from "./openaiQuota";

/**
 * MODEL_DEPLOYMENTS as the worker reads it (worker/processing/model/deployments.ts): the deployments the stack
 * creates, at its account's endpoint with their quota derived from their capacity, then the existing ones as
 * configured. Every one is Azure OpenAI with Entra ID: no apiKeyEnv, so no key anywhere.
 */
export function modelDeploymentSpecs(model: ModelConfig, accountEndpoint: string): ModelDeploymentSpec[] {
  const endpoint = accountEndpoint.replace(/\/+$/, "");
  return [
    ...model.deployments.map((d): ModelDeploymentSpec => ({
      name: d.name,
      provider: "azure-openai",
      endpoint,
      deployment: d.name,
      priority: d.priority,
      weight: d.weight,
      ...deploymentQuota(d.model, d.sku, d.capacity),
    })),
    ...model.existing.map((e): ModelDeploymentSpec => ({ provider: "azure-openai", ...e })),
  ];
}

/** The worker settings that make it call the model: PROCESSOR=model and the task, prompt, schema and deployments. */
export function modelWorkerSettings(model: ModelConfig, accountEndpoint: pulumi.Input<string> | undefined): WorkerEnvironment<pulumi.Input<string>> {
  return {
    PROCESSOR: "model",
    MODEL_TASK: model.task,
    ...(model.systemPrompt === undefined ? {} : { MODEL_SYSTEM_PROMPT: model.systemPrompt }),
    // Inline: the worker takes a schema as JSON text as well as a path, and a container app has no file to point at.
    ...(model.responseSchema === undefined ? {} : { MODEL_JSON_SCHEMA: JSON.stringify(model.responseSchema) }),
    MODEL_DEPLOYMENTS: pulumi.output(accountEndpoint ?? "").apply((endpoint) => JSON.stringify(modelDeploymentSpecs(model, endpoint))),
  };
}
