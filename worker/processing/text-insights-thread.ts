// Pool thread entry for the text-insights processor: the wink model loads once, when this thread imports it.
import { analyzeEvent } from "./text-insights";
import { settle, type TaskOutcome } from "./thread-protocol";
import type { PoolTask } from "./pool";

export default function runTextInsights(task: PoolTask): Promise<TaskOutcome> {
  return settle(() => (task.warmUp ? null : analyzeEvent(task.input)));
}
