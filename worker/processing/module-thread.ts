// Pool thread entry for custom processor modules: imports the user's module and runs its init() once per thread.
import { workerData } from "node:worker_threads";
import { loadUserModule, type UserModule } from "./user-module";
import { settle, type TaskOutcome } from "./thread-protocol";
import type { PoolTask } from "./pool";

const { modulePath } = workerData as { modulePath: string };

const ready: Promise<UserModule> = (async () => {
  const userModule = await loadUserModule(modulePath);
  await userModule.init?.();
  return userModule;
})();
ready.catch(() => undefined); // reported through every task's outcome instead of as an unhandled rejection

export default async function runUserModule(task: PoolTask): Promise<TaskOutcome> {
  return settle(async () => {
    const userModule = await ready;
    return task.warmUp ? null : userModule.process(task.input);
  });
}
