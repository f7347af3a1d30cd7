// Harness side of the consumer children: start one, wait for its summary line, return it with its peak RSS.
// `whileReady` runs once the child reports it is subscribed (e.g. a producer offering live load).
import { TsChild } from "../../tools/ts-child";
import { waitFor } from "../../tools/wait-for";
import { MemoryWatch } from "../process-memory";
import { isChildSummary, type ChildSummary } from "./child-protocol";

export interface ChildMeasurement extends ChildSummary {
  peakRssBytes: number;
}

export async function runConsumerChild(
  name: string,
  entry: string,
  env: Record<string, string>,
  timeoutMs: number,
  whileReady?: () => Promise<void>,
  nodeArgs?: string[],
): Promise<ChildMeasurement> {
  let summary: ChildSummary | undefined;
  let ready = false;
  const child = new TsChild({
    name,
    entry,
    env,
    ...(nodeArgs ? { nodeArgs } : {}),
    onLog: (entry) => {
      if (isChildSummary(entry.benchSummary)) summary = entry.benchSummary;
      if (entry.benchReady === true) ready = true;
    },
  });
  const memory = new MemoryWatch(child.pid);
  const timer = setTimeout(() => child.signal("SIGKILL"), timeoutMs);
  try {
    if (whileReady) {
      await waitFor(`${name} to subscribe`, () => ready || !child.running, timeoutMs, () => child.describe());
      await whileReady();
    }
    const exit = await child.exited;
    if (!summary) throw new Error(`${name} ended (code ${exit.code}, signal ${exit.signal}) without a summary\n${child.describe()}`);
    return { ...summary, peakRssBytes: memory.peakRssBytes };
  } finally {
    clearTimeout(timer);
    memory.stop();
  }
}
