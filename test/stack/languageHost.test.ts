import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stackConfig, type ConfigValue } from "./programHarness";

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, "languageHost", "runLikePulumi.cjs");
/** Pulumi's language host exits with this code after it has printed a user-actionable error. */
const EXIT_AFTER_USER_ERROR = 32;

interface HostReport {
  registered: string[];
  outputs: Record<string, { secret: boolean; value: unknown }>;
  tsNodeRegistered: boolean;
  typescriptVersion: string;
}

/** Runs index.ts in a child process through @pulumi/pulumi's language-host entry, under mocks. */
async function runLikePulumi(config: Record<string, ConfigValue>) {
  const pulumiConfig = Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, typeof value === "object" ? JSON.stringify(value) : String(value)]),
  );
  const env = { ...process.env, PULUMI_CONFIG: JSON.stringify(pulumiConfig) };
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT], { env, timeout: 50_000 });
    return { code: 0, report: JSON.parse(stdout.trim().split("\n").pop()!) as HostReport, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, report: undefined, stderr: failed.stderr ?? String(error) };
  }
}

describe("loading the program the way `pulumi up` does", () => {
  it("compiles and runs index.ts through ts-node with the project's TypeScript 5", async () => {
    const { code, report, stderr } = await runLikePulumi(stackConfig("dev"));
    expect(code, stderr).toBe(0);
    expect(report!.tsNodeRegistered).toBe(true);
    expect(report!.typescriptVersion).toMatch(/^5\./);
    expect(report!.registered).toContain("pulumi:pulumi:Stack");
    expect(report!.registered.filter((t) => t.startsWith("azure-native:"))).toHaveLength(10);
    const secrets = Object.entries(report!.outputs).filter(([, o]) => o.secret).map(([k]) => k).sort();
    expect(secrets).toEqual(["connectionString", "producerConnectionString", "storageConnectionString"]);
    expect(report!.outputs.partitionCount).toEqual({ secret: false, value: 4 });
  });

  it("stops on a bad config with the problem list and no stack trace", async () => {
    const { code, stderr } = await runLikePulumi(stackConfig("dev", { partitionCount: 99, retentionHours: 500 }));
    expect(code).toBe(EXIT_AFTER_USER_ERROR);
    expect(stderr).toContain("Invalid stack configuration (2 problems)");
    expect(stderr).toContain("partitionCount = 99: Standard event hubs take 1-32 partitions");
    expect(stderr).toContain("retentionHours = 500");
    expect(stderr).not.toMatch(/\n\s+at /); // RunError: Pulumi prints the message only
  });
});
