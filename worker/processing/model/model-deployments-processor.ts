// PROCESSOR=model: the deployments MODEL_DEPLOYMENTS lists, of either provider, routed by priority and weight and
// paced by each deployment's quota, which the replicas of the consumer group share.
import { defineProcessor } from "../../plugins";
import { deploymentOptions, MODEL_SETTINGS, missingDeploymentKeys, modelConflicts, modelOptions } from "./model-settings";
import { loadModelProcessor } from "./load-model-processor";

export const modelProcessor = defineProcessor({
  name: "model",
  settings: MODEL_SETTINGS,
  required: ["MODEL_DEPLOYMENTS"],
  missing: (raw, env) => missingDeploymentKeys(raw, env),
  conflicts: (values) => modelConflicts(values),
  options: (values, { env }) => modelOptions(values, (values.MODEL_DEPLOYMENTS ?? []).map((deployment) => deploymentOptions(deployment, env))),
  create: (options, runtime) => loadModelProcessor("model", options, runtime),
});
