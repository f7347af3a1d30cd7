// PROCESSOR=text-insights, the offline default: the text-insights analysis on the worker-thread pool.
import { defineProcessor } from "../plugins";
import { POOL_SETTINGS, poolOptions, type PoolOptions } from "./pool-settings";
import { ProcessingPool } from "./pool";
import { sharedModel, type TextInsightsWorkerData } from "./text-insights-model";

/** Starts the pool; resolves once its first thread has built its NLP instance on the process's shared model. */
export function startTextInsights(options: PoolOptions): Promise<ProcessingPool> {
  const workerData: TextInsightsWorkerData = { textInsightsModel: sharedModel() };
  return ProcessingPool.start({ name: "text-insights", entry: "text-insights-thread", ...options, workerData });
}

export const textInsightsProcessor = defineProcessor({
  name: "text-insights",
  settings: POOL_SETTINGS,
  options: poolOptions,
  create: (options) => startTextInsights(options),
});
