// Pool thread entry for custom processor modules: imports the user's module and runs its init() once per thread.
import { workerData } from "node:worker_threads";
import type { EventInput } from "./processor";
import { runTask, type PoolTask, type TaskOutcome } from "./thread-protocol";
import { loadUserModule, type UserModule } from "./user-module";

const { modulePath } = workerData as { modulePath: string };

const ready: Promise<UserModule> = (async () => {
  const userModule = await loadUserModule(modulePath);
  await userModule.init?.();
  return userModule;
})();
ready.catch(() => undefined); // reported through every task's outcome instead of as an unhandled rejection

export default function runUserModule(task: PoolTask): Promise<TaskOutcome[]> {
  return runTask(
    task,
    async (input: EventInput) => (await ready).process(input),
    async () => {
      await ready;
      return null;
    },
  );
}
