// One latency run (runLatency) in a fresh process of its own: the process that reads the worker's results and
// times them carries nothing else. Run from the benchmark's main process after the throughput repetitions, the
// latency runs of one full run gave p99 65, 67 and 72 ms; the same run in a fresh process 35-41 ms (5 runs). By
// then the main process has more to collect (193 MB of heap after one repetition, four 10-18 ms major GCs in one
// 20 s latency run). Settings arrive as JSON in BENCH_LATENCY_SETTINGS; progress lines and the result are JSON
// lines on stderr.
import { TsChild } from "../../tools/ts-child";
import { benchText } from "../workload";
import { runLatency, type LatencyRun, type LatencySettings } from "./latency";

interface LatencyChildLine {
  benchLog?: string;
  benchLatency?: LatencyRun;
}

/** Runs one latency run in a child; its progress lines go to `log`. */
export async function runLatencyInChild(settings: LatencySettings, log: (line: string) => void): Promise<LatencyRun> {
  let result: LatencyRun | undefined;
  const child = new TsChild({
    name: "latency-run",
    entry: "bench/scenarios/latency-child.ts",
    env: { BENCH_LATENCY_SETTINGS: JSON.stringify(settings), BENCH_TEXT: benchText() },
    onLog: (entry) => {
      const line = entry as LatencyChildLine;
      if (typeof line.benchLog === "string") log(line.benchLog);
      if (line.benchLatency) result = line.benchLatency;
    },
  });
  const exit = await child.exited;
  if (!result) throw new Error(`the latency run ended (code ${exit.code}, signal ${exit.signal}) without a result\n${child.describe()}`);
  return result;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.BENCH_LATENCY_SETTINGS ?? "") as LatencySettings;
  const report = (line: LatencyChildLine) => process.stderr.write(`${JSON.stringify(line)}\n`);
  report({ benchLatency: await runLatency(settings, (line) => report({ benchLog: line })) });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
