// Pool thread entry for the text-insights processor: the wink model loads once, when this thread imports it.
import { analyzeEvent } from "./text-insights";
import { runTask, type PoolTask, type TaskOutcome } from "./thread-protocol";

export default function runTextInsights(task: PoolTask): Promise<TaskOutcome[]> {
  return runTask(task, analyzeEvent);
}
