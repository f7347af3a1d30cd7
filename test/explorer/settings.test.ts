// The explorer's and the dead-letter CLI's connection settings: the worker's own settings and rules, read without
// loading a single processor or sink (nor the model SDK, the NLP model or the sinks' clients behind them).
import { describe, expect, it } from "vitest";
import { parseConnection } from "../../explorer/settings";
import { loadedBy } from "../support/loaded-modules";

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
    expect(packages.has("piscina")).toBe(true);
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
