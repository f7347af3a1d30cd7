// The shared command-line front end: what it makes of flags and environment variables, how it words a problem,
// and every program that uses it run as a user runs it: --help exits 0, an unknown flag or a bad value exits 2
// with a line naming the flag, the value and what is allowed, before anything connects. The programs run side by
// side (vitest's maxConcurrency of them at a time): each run is a process that mostly loads modules.
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseCommandLine, wholeNumber } from "../../common/cli";
import { runProgram } from "../support/program";

/** A small program of the programs' kind; commander's own messages are kept off the test output. */
function program(): Command {
  return new Command("probe")
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .option("--count <n>", "events", "10")
    .option("--no-color", "plain output")
    .addOption(new Option("--hub <name>", "hub").env("PROBE_HUB").default("events"))
    .addOption(new Option("--secret <key>", "key").env("PROBE_SECRET"));
}

const schema = z
  .object({ count: wholeNumber(1, 100), color: z.boolean(), hub: z.string().regex(/^[a-z]+$/, "allowed: lower-case letters"), secret: z.string().min(8, "allowed: 8 characters or more").optional() })
  .refine((o) => o.color || o.hub !== "plain", "--no-color does not go with the hub plain");

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseCommandLine({ command: program(), schema, title: "Invalid probe options", argv, env, secrets: ["secret"] });

describe("parseCommandLine", () => {
  it("types the options: defaults, flags, negations", () => {
    expect(parse([])).toEqual({ kind: "ok", options: { count: 10, color: true, hub: "events" } });
    expect(parse(["--count", "7", "--no-color"])).toEqual({ kind: "ok", options: { count: 7, color: false, hub: "events" } });
  });

  it("reads the given environment, not the process's; the flag wins; an empty variable is not set", () => {
    process.env.PROBE_HUB = "fromprocess";
    try {
      expect(parse([], {})).toMatchObject({ options: { hub: "events" } });
      expect(parse([], { PROBE_HUB: "orders" })).toMatchObject({ options: { hub: "orders" } });
      expect(parse(["--hub", "flags"], { PROBE_HUB: "orders" })).toMatchObject({ options: { hub: "flags" } });
      expect(parse([], { PROBE_HUB: "", PROBE_SECRET: "" })).toEqual({ kind: "ok", options: { count: 10, color: true, hub: "events" } });
    } finally {
      delete process.env.PROBE_HUB;
    }
  });

  it("reports every problem at once: the flag as typed (and its variable), the value, what is allowed; secrets stay hidden", () => {
    expect(parse(["--count", "0", "--hub", "Bad!"], { PROBE_SECRET: "short" })).toEqual({
      kind: "exit",
      exitCode: 2,
      problems: [
        '--count: "0": allowed: an integer from 1 to 100',
        '--hub (PROBE_HUB): "Bad!": allowed: lower-case letters',
        "--secret (PROBE_SECRET): (5 characters, hidden): allowed: 8 characters or more",
      ],
    });
    expect(parse(["--count", "many"])).toMatchObject({ problems: ['--count: "many": allowed: an integer from 1 to 100'] });
    // A rule across options has no single flag: its message stands alone.
    expect(parse(["--no-color", "--hub", "plain"])).toMatchObject({ problems: ["--no-color does not go with the hub plain"] });
  });

  it("leaves --help (exit 0) and syntax errors (exit 2) to commander's words", () => {
    expect(parse(["--help"])).toEqual({ kind: "exit", exitCode: 0, problems: [] });
    expect(parse(["--bogus-flag"])).toEqual({ kind: "exit", exitCode: 2, problems: [] });
    expect(parse(["--count"])).toEqual({ kind: "exit", exitCode: 2, problems: [] });
  });
});

/** Each program with a bad value and the line it must print. No connection settings: nothing can connect. */
const PROGRAMS: Array<{ file: string; bad: string[]; line: RegExp }> = [
  { file: "tools/send.ts", bad: ["--count", "0"], line: /^ {2}- --count: "0": allowed: an integer from 1 to 100000000$/m },
  { file: "tools/dev.ts", bad: ["--workers", "9"], line: /^ {2}- --workers: "9": allowed: an integer from 1 to 8$/m },
  { file: "explorer/cli.ts", bad: ["--port", "70000"], line: /^ {2}- --port: "70000": allowed: an integer from 0 to 65535$/m },
  { file: "explorer/dead-letters/cli.ts", bad: ["list", "--limit", "0"], line: /^ {2}- --limit: allowed: an integer from 1 to 100000/m },
  { file: "emulator/cli.ts", bad: ["--port", "70000"], line: /argument '70000' is invalid\. expected a port number from 0 to 65535/ },
  { file: "bench/emulator.ts", bad: ["--events", "2"], line: /^ {2}- --events: "2": allowed: an integer from 4 to 10000000$/m },
  { file: "bench/run.ts", bad: ["--runs", "0"], line: /^ {2}- --runs: "0": allowed: an integer from 1 to 20$/m },
  { file: "bench/quota/run.ts", bad: ["--seconds", "1"], line: /^ {2}- --seconds: "1": allowed: an integer from 5 to 600$/m },
  { file: "bench/chaos/run.ts", bad: ["--poison-ratio", "2"], line: /^ {2}- --poison-ratio: "2": allowed: a number from 0 to 1$/m },
  { file: "bench/store-memory.ts", bad: ["--event-bytes", "0"], line: /^ {2}- --event-bytes: "0": allowed: an integer from 1 to 1000000$/m },
];

describe.each(PROGRAMS)("$file", ({ file, bad, line }) => {
  it.concurrent("prints help with exit 0, and exits 2 on an unknown flag and on a bad value, naming it", async () => {
    const help = await runProgram(file, ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: /);

    const unknown = await runProgram(file, ["--bogus-flag"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus-flag'");

    const invalid = await runProgram(file, bad);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(line);
    expect(invalid.stdout).toBe("");
  }, 120_000);
});
