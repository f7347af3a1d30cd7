// Pool thread entry for custom processor modules: imports the user's module and runs its init() once per thread.
import { workerData } from "node:worker_threads";
import { runTask } from "./pool-thread";
import type { PoolTask, TaskOutcome } from "./thread-protocol";
import { loadUserModule, type UserModule } from "./user-module";

const { modulePath } = workerData as { modulePath: string };

let loaded: UserModule | undefined;
const ready: Promise<UserModule> = (async () => {
  const userModule = await loadUserModule(modulePath);
  await userModule.init?.();
  loaded = userModule;
  return userModule;
})();
ready.catch(() => undefined); // reported through every task's outcome instead of as an unhandled rejection

export default function runUserModule(task: PoolTask): Promise<TaskOutcome[]> {
  // runTask awaits the warm-up before any event, so the module is loaded when the handler runs.
  return runTask(task, (input) => (loaded as UserModule).process(input), () => ready.then(() => null));
}
