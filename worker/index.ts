// The worker's public surface: what the other rooms (the explorer, the tools, the benchmarks) may use; everything
// else in worker/ is its own. Importing it is cheap and loads no processor or sink: the worker itself and its full
// configuration, which every plugin declares a part of, load on the first call that needs them (startWorker,
// parseConfig, workerSettings).
import type { Logger } from "pino";
import type { ConfigResult, WorkerConfig } from "./config";
import type { RunningWorker, WorkerTelemetry } from "./consumer";
import type { Settings } from "./settings/declare";

// Running a worker in this process, as `npm run worker` does.

export async function startWorker(config: WorkerConfig, logger: Logger, telemetry?: WorkerTelemetry): Promise<RunningWorker> {
  return (await import("./consumer.js")).startWorker(config, logger, telemetry);
}
export type { RunningWorker, WorkerTelemetry } from "./consumer";
export { StartupError } from "./startup-checks";
export { installShutdownHandlers } from "./shutdown";
export { startTracing, type TracingExport } from "./telemetry/tracing";
export { createLogger, errorFields, type LogLevel } from "./telemetry/logger";
export type { Readiness, WorkerStartedMessage, WorkerStatus } from "./telemetry/http-server";
export { probeEventHub, type AccessProblem } from "./event-hubs-access";

// Its settings: environment variables and flags of the same names.

/** Merges environment and flags (flags win) and validates every setting; `argv` excludes the node and script paths. */
export async function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<ConfigResult> {
  return (await import("./config.js")).parseConfig(argv, env);
}
/** Every setting, core and plugins', in the order --help and docs/configuration.md list them. */
export async function workerSettings(): Promise<Settings> {
  return (await import("./config.js")).SETTINGS;
}
export type { ConfigResult, RawSettings, SettingName, WorkerConfig, WorkerEnvironment } from "./config";
export { CONNECTION_SETTINGS, validateConnection, type Connection, type ConnectionSettingName } from "./connection-settings";
export { addSettingOptions, rawSettings, settingsTable, type Settings } from "./settings/declare";

// What the worker writes, for the programs that read it (the dead-letter record and its blob name are in
// common/dead-letter-record.ts).

export { deadLetterBody } from "./dead-letter";
export { checkpointBlobPrefix } from "./initial-checkpoints";
export { fromMetadata, recordPrefix, type DeploymentUse, type FleetRecord } from "./fleet/fleet-record";
export type { CircuitStateName } from "./processing/model/circuit-breaker";
export type { EventInput } from "./processing/processor";
