// Harness side of the consumer children: start one, wait for its summary line, return it with its peak RSS.
import { TsChild } from "../child-process";
import { MemoryWatch } from "../process-memory";
import { isChildSummary, type ChildSummary } from "./child-protocol";

export interface ChildMeasurement extends ChildSummary {
  peakRssBytes: number;
}

export async function runConsumerChild(name: string, entry: string, env: Record<string, string>, timeoutMs: number): Promise<ChildMeasurement> {
  let summary: ChildSummary | undefined;
  const child = new TsChild({
    name,
    entry,
    env,
    onLog: (entry) => {
      if (isChildSummary(entry.benchSummary)) summary = entry.benchSummary;
    },
  });
  const memory = new MemoryWatch(child.pid);
  const timer = setTimeout(() => child.signal("SIGKILL"), timeoutMs);
  try {
    const exit = await child.exited;
    if (!summary) throw new Error(`${name} ended (code ${exit.code}, signal ${exit.signal}) without a summary\n${child.describe()}`);
    return { ...summary, peakRssBytes: memory.peakRssBytes };
  } finally {
    clearTimeout(timer);
    memory.stop();
  }
}
