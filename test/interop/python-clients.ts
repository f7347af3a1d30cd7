// Runs the Python clients of the interop tests (Microsoft's azure-eventhub, Qpid Proton and confluent-kafka,
// installed by .ci/install-python-clients.sh, which also installs kcat) as child processes that print one JSON
// object per line, with bounded waits. In CI (CI=true) missing clients, or another azure-eventhub than
// .ci/.python's, fail the tests; elsewhere the tests skip and say why.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

/** Debian's interpreter, which the Debian packages are built for; any python3 elsewhere. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
/** No user site-packages, no PYTHON* variables, unbuffered, no .pyc files: own_clients.py alone decides what azure is. */
const PYTHON_FLAGS = ["-s", "-E", "-u", "-B"];
const SITE = path.resolve(".ci/.python/usr/lib/python3/dist-packages");
const SCRIPTS = path.resolve("test/interop/python");
const INSTALL_HINT = "run `bash .ci/install-python-clients.sh` (Debian, as root) to install them";

export interface PythonClients {
  ok: boolean;
  /** What is installed (e.g. "azure-eventhub 5.15.1, Qpid Proton 0.37.0") or what is missing. */
  summary: string;
}

/** Checks once, synchronously, which clients import; a test file decides at load time whether it runs. */
export function probePythonClients(): PythonClients {
  const probe = spawnSync(PYTHON, [...PYTHON_FLAGS, path.join(SCRIPTS, "own_clients.py")], { env: pythonEnv({}), encoding: "utf8", timeout: 60_000 });
  if (probe.status !== 0) {
    const reason = probe.error?.message ?? probe.stderr.trim().split("\n").at(-1) ?? `exit code ${probe.status}`;
    return { ok: false, summary: `the Python clients are not installed (${reason}); ${INSTALL_HINT}` };
  }
  const found = JSON.parse(probe.stdout) as { azure_eventhub: string; location: string; own: boolean; proton: string };
  // A system-wide azure-eventhub (Debian's python3-azure is 5.11) imports fine but cannot reach the emulator.
  if (!found.own) return { ok: false, summary: `found azure-eventhub ${found.azure_eventhub} in ${found.location}, not the copy in .ci/.python; ${INSTALL_HINT}` };
  return { ok: true, summary: `azure-eventhub ${found.azure_eventhub}, Qpid Proton ${found.proton}` };
}

/** Checks once that librdkafka's clients are there: Debian's python3-confluent-kafka and kcat. */
export function probeKafkaClients(): PythonClients {
  const python = spawnSync(PYTHON, ["-c", "import confluent_kafka as c; print(f'confluent-kafka {c.version()[0]}, librdkafka {c.libversion()[0]}')"], {
    env: pythonEnv({}),
    encoding: "utf8",
    timeout: 60_000,
  });
  const kcat = spawnSync("kcat", ["-V"], { encoding: "utf8", timeout: 60_000 });
  if (python.status === 0 && kcat.status === 0) return { ok: true, summary: `${python.stdout.trim()}, kcat ${/Version (\S+)/.exec(kcat.stdout)?.[1] ?? "?"}` };
  const missing = [python.status === 0 ? "" : "python3-confluent-kafka", kcat.status === 0 ? "" : "kcat"].filter(Boolean).join(" and ");
  return { ok: false, summary: `${missing} not installed; ${INSTALL_HINT}` };
}

/** Whether a suite runs: in CI always (so missing clients fail loudly), elsewhere only with the clients. */
export function shouldRun(clients: PythonClients, suite: string): boolean {
  if (clients.ok || process.env.CI === "true") return true;
  console.warn(`SKIPPED ${suite}: ${clients.summary}`);
  return false;
}

/** Throws the install hint when the clients are missing (CI runs the suite anyway). */
export function assertInstalled(clients: PythonClients): void {
  if (!clients.ok) throw new Error(`Interop tests cannot run: ${clients.summary}`);
}

function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", INTEROP_SITE: SITE, ...extra };
}

export type JsonLine = Record<string, unknown>;

/** A running Python client script; its stdout JSON lines collect in `lines`. */
export class PythonProcess {
  readonly lines: JsonLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(script: string, args: string[], env: Record<string, string>) {
    this.child = spawn(PYTHON, [...PYTHON_FLAGS, path.join(SCRIPTS, script), ...args], { env: pythonEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      try {
        this.lines.push(JSON.parse(line) as JsonLine);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
    });
    createInterface({ input: this.child.stderr! }).on("line", (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Values of `key` from every line that has it. */
  values<T>(key: string): T[] {
    return this.lines.filter((line) => key in line).map((line) => line[key] as T);
  }

  describe(): string {
    return `stdout: ${JSON.stringify(this.lines).slice(0, 2000)}\nstderr (last lines):\n${this.stderr.slice(-25).join("\n")}`;
  }

  /** Waits for the exit (killing the process after `timeoutMs`); fails on a non-zero exit. */
  async finished(timeoutMs: number): Promise<this> {
    const code = await Promise.race([this.exited, sleep(timeoutMs).then(() => "timeout" as const)]);
    if (code === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
      throw new Error(`python ${this.child.spawnargs.slice(1).join(" ")} did not finish within ${timeoutMs} ms\n${this.describe()}`);
    }
    if (code !== 0) throw new Error(`python ${this.child.spawnargs.slice(1).join(" ")} exited with ${code}\n${this.describe()}`);
    return this;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Runs a script to completion and returns it (with its output lines). */
export function runPython(script: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<PythonProcess> {
  return new PythonProcess(script, args, env).finished(timeoutMs);
}
