// One of the project's programs run to its end as npm's scripts run it (`node --import tsx <entry>`, no wrapper
// process): its exit code and everything it printed. For tests of what a user sees: exit codes, messages, streams.
import { execFile } from "node:child_process";
import { childEnvironment, REPO_ROOT } from "../../tools/ts-child";

export interface ProgramRun {
  /** The exit code; null when the program was killed (by the time limit or a signal). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `entry` relative to the repository root; `env` are its settings, over PATH and HOME (tools/ts-child.ts). */
export function runProgram(entry: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ProgramRun> {
  return new Promise((resolve) => {
    const options = { cwd: REPO_ROOT, env: childEnvironment(env), encoding: "utf8" as const, timeout: timeoutMs };
    execFile(process.execPath, ["--import", "tsx", entry, ...args], options, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}
