// The sinks SINK can choose, in the order --help and docs/configuration.md list them. A new sink is a module that
// exports a defineSink(...) plugin, plus its line here.
import { createFromConfig, type PluginConfig, type PluginRuntime } from "../plugins";
import { blobSink } from "./blob-sink";
import { eventHubSink } from "./eventhub-sink";
import { httpSink } from "./http-sink";
import type { Sink } from "./sink";
import { stdoutSink } from "./stdout-sink";

export const SINKS = [stdoutSink, eventHubSink, blobSink, httpSink] as const;

export type SinkConfig = PluginConfig<(typeof SINKS)[number]>;

/** Builds the configured sink. */
export function startSink(config: SinkConfig, runtime: PluginRuntime): Promise<Sink> {
  return createFromConfig(SINKS, config, runtime);
}
