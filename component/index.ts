// The component package's entry: what `pulumi package add` exposes to other Pulumi languages (every
// ComponentResource exported here; its arguments' schema is inferred from their TypeScript types) and what a
// TypeScript program imports directly (package.json "exports" at the repository root).
export { EventHubsAiWorkers, EVENT_HUBS_AI_WORKERS_TYPE } from "../infra/eventHubsAiWorkers";
export type { EventHubsAiWorkersArgs, ExistingModelDeploymentArgs, ModelArgs, ModelDeploymentArgs } from "../infra/eventHubsAiWorkersArgs";
export { StackConfigError, validateStackConfig, type ConfigProblem, type StackConfig } from "../infra/config";
