// Pool thread entry for the text-insights processor: its NLP instance is built when this thread imports it,
// on the model the pool shares with every thread (text-insights-model.ts).
import { runTask } from "./pool-thread";
import { analyzeEvent } from "./text-insights";
import type { PoolTask, TaskOutcome } from "./thread-protocol";

export default function runTextInsights(task: PoolTask): Promise<TaskOutcome[]> {
  return runTask(task, analyzeEvent);
}
