// What a test file of real workers calling local model servers needs: a local stack with a 4-partition hub per
// name, the worker processes it starts, and the model servers it starts; workers and servers are disposed after
// each test, the stack after the file.
import { afterAll, afterEach, beforeAll } from "vitest";
import { FakeModelServer } from "../../bench/fake-model-server";
import { startLocalStack, type LocalStack } from "../../emulator";
import { fourPartitionHubs } from "./hub-fixtures";
import { WorkerFleet } from "./worker-process";

export interface ModelStack {
  /** Set before the first test runs. */
  readonly stack: LocalStack;
  readonly workers: WorkerFleet;
  modelServer(options?: Parameters<typeof FakeModelServer.start>[0]): Promise<FakeModelServer>;
}

export function useModelStack(...hubs: string[]): ModelStack {
  let stack: LocalStack | undefined;
  const servers: FakeModelServer[] = [];
  const workers = new WorkerFleet(() => (stack as LocalStack).env());
  beforeAll(async () => {
    stack = await startLocalStack({ config: fourPartitionHubs(...hubs) });
  });
  afterEach(async () => {
    await workers.disposeAll();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return {
    get stack() {
      if (!stack) throw new Error("the local stack starts before the first test");
      return stack;
    },
    workers,
    async modelServer(options = {}) {
      const server = await FakeModelServer.start(options);
      servers.push(server);
      return server;
    },
  };
}
