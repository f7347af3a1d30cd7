// PROCESSOR=text-insights, the offline default: the text-insights analysis on the worker-thread pool.
import { defineProcessor } from "../plugins";
import { POOL_SETTINGS, poolOptions, type PoolOptions } from "./pool-settings";
import { ProcessingPool } from "./pool";

/** Starts the pool; resolves once every thread has loaded the language model. */
export function startTextInsights(options: PoolOptions): Promise<ProcessingPool> {
  return ProcessingPool.start({ name: "text-insights", entry: "text-insights-thread", ...options });
}

export const textInsightsProcessor = defineProcessor({
  name: "text-insights",
  settings: POOL_SETTINGS,
  options: poolOptions,
  create: (options) => startTextInsights(options),
});
