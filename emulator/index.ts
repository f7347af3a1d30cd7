// The emulator's public API: what the worker, its tests and scripts import.
export { startLocalStack } from "./local-stack";
export type { LocalStack, LocalStackOptions } from "./local-stack";
export { EventHubsEmulator } from "./server";
export type { EventHubsEmulatorOptions } from "./server";
export { parseEmulatorConfig, ConfigError } from "./config";
export type { EmulatorConfig, EmulatorConfigInput, HubConfig, HubConfigInput, SasKey } from "./config";
export { startAzurite, azuriteConnectionString } from "./azurite";
export type { AzuriteOptions, RunningAzurite } from "./azurite";
export { partitionIndexForKey } from "./partition-key";
export { startHealthServer } from "./health";
export type { HealthServer } from "./health";
