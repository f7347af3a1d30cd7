// The benchmark's local stack (emulator + Azurite, as startBenchStack makes it) in a process of its own, for the
// latency runs: the process that stamps nothing and only reads results must not also pause for the emulator's
// and Azurite's garbage collection. With both in the measuring process, the slow events came in clusters, each
// of the four recorded beside that process's GCs at a 15-21 ms major GC there, and the p99 was 35-82 ms (8 runs);
// with the stack in a child, 32-41 ms (6 runs). Events are still stamped by the emulator (enqueued time) and results read here, on the
// same machine's wall clock.
import { startBenchStack } from "./local-hub";
import { TsChild } from "../tools/ts-child";
import { waitFor } from "../tools/wait-for";
import type { WorkerEnvironment } from "../worker/index";

/** What the parent needs of the stack: where it is, and how to stop it. */
export interface BenchStackProcess {
  eventHubConnectionString: string;
  eventHubName: string;
  env(): WorkerEnvironment;
  stop(): Promise<void>;
}

interface StackReadyMessage {
  benchStack: { eventHubConnectionString: string; eventHubName: string; env: WorkerEnvironment };
}

const isStackReady = (message: unknown): message is StackReadyMessage =>
  typeof (message as Partial<StackReadyMessage> | null)?.benchStack?.eventHubConnectionString === "string";

/** Starts the child and resolves once its stack is listening. */
export async function startBenchStackProcess(timeoutMs = 60_000): Promise<BenchStackProcess> {
  let ready: StackReadyMessage["benchStack"] | undefined;
  const child = new TsChild({
    name: "bench-stack",
    entry: "bench/stack-process.ts",
    env: {},
    onMessage: (message) => {
      if (isStackReady(message)) ready = message.benchStack;
    },
  });
  const stop = async () => void (await child.stop(10_000));
  try {
    await waitFor("the benchmark's stack process to listen", () => ready !== undefined || !child.running, timeoutMs, () => child.describe());
  } catch (error) {
    await stop();
    throw error;
  }
  if (!ready) throw new Error(`the benchmark's stack process ended during start-up\n${child.describe()}`);
  const { eventHubConnectionString, eventHubName, env } = ready;
  return { eventHubConnectionString, eventHubName, env: () => env, stop };
}

async function main(): Promise<void> {
  const stack = await startBenchStack();
  const stop = () => void stack.stop().then(() => process.exit(0), () => process.exit(1));
  process.once("SIGTERM", stop);
  process.once("disconnect", stop); // the parent went away
  const message: StackReadyMessage = { benchStack: { eventHubConnectionString: stack.eventHubConnectionString, eventHubName: stack.eventHubName, env: stack.env() } };
  process.send?.(message);
}

if (require.main === module) void main();
