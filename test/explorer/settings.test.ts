// The explorer's and the dead-letter CLI's connection settings: the worker's own settings and rules, read without
// loading a single processor or sink (nor the model SDK, the NLP model or the sinks' clients behind them).
import { execFile } from "node:child_process";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConnection } from "../../explorer/settings";
import { packageName } from "../support/module-graph";

const REPO = join(__dirname, "..", "..");

/** The files and packages a fresh Node process has loaded once `entry` is imported, as the programs run it (tsx). */
async function loadedBy(entry: string): Promise<{ files: string[]; packages: Set<string> }> {
  const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "-e", script], { cwd: REPO, timeout: 60_000 });
  const loaded = (JSON.parse(stdout) as string[]).map((file) => relative(REPO, file).split("\\").join("/"));
  const inPackages = (file: string) => file.startsWith("node_modules/");
  const packages = new Set(loaded.filter(inPackages).map((file) => packageName(file.slice("node_modules/".length))));
  return { files: loaded.filter((file) => !inPackages(file)), packages };
}

const isPlugin = (file: string) => file.startsWith("worker/processing/") || file.startsWith("worker/sinks/");

describe("connection settings", () => {
  it("load no processor or sink module", async () => {
    const { files, packages } = await loadedBy("./explorer/settings.ts");
    expect(files).toEqual(expect.arrayContaining(["explorer/settings.ts", "worker/index.ts", "worker/connection-settings.ts"]));
    expect(files.filter(isPlugin)).toEqual([]);
    for (const pluginPackage of ["openai", "piscina", "wink-nlp", "gpt-tokenizer"]) expect(packages.has(pluginPackage), pluginPackage).toBe(false);
  });

  it("(the check sees plugins where they are loaded: the worker's whole configuration)", async () => {
    const { files, packages } = await loadedBy("./worker/config.ts");
    expect(files).toEqual(expect.arrayContaining(["worker/sinks/http-sink.ts", "worker/processing/model/azure-openai.ts"]));
    expect(packages.has("openai")).toBe(true);
  });

  it("are checked by the worker's rules, every problem at once", () => {
    const parsed = parseConnection({ eventhubName: "bad name!" }, { EVENTHUB_NAMESPACE: "ns.servicebus.windows.net", STORAGE_ACCOUNT_URL: "" });
    expect(parsed).toEqual({
      problems: [
        "STORAGE_CONNECTION_STRING (--storage-connection-string) = (not set): required: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL",
        expect.stringMatching(/^EVENTHUB_NAME \(--eventhub-name\) = "bad name!": /),
      ],
    });
    const ok = parseConnection({}, { EVENTHUB_NAMESPACE: "ns.servicebus.windows.net", EVENTHUB_NAME: "events", STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net" });
    expect(ok).toEqual({
      connection: {
        eventHub: { fullyQualifiedNamespace: "ns.servicebus.windows.net", eventHubName: "events", consumerGroup: "ai-workers", retry: { maxRetries: 3, retryDelayInMs: 1000, timeoutInMs: 60_000 } },
        storage: { accountUrl: "https://acct.blob.core.windows.net", checkpointContainer: "checkpoints-ai-workers", deadLetterContainer: "dead-letters", createContainers: true },
      },
    });
  });
});
