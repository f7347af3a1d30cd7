// What the worker's main thread carries before it starts: the remote-model processors' runtime (the OpenAI client,
// the tokenizer's tables, over 10 MB of heap) and Entra ID's libraries load only when chosen or needed.
import { describe, expect, it } from "vitest";
import { loadedBy } from "../support/loaded-modules";

describe("the worker, ready to start", () => {
  it("has loaded the processors' settings, not the remote-model runtime or Entra ID's libraries", async () => {
    const { files, packages } = await loadedBy("./worker/consumer.ts");
    expect(files).toEqual(expect.arrayContaining(["worker/processing/model/model-settings.ts", "worker/processing/text-insights-processor.ts"]));
    expect(files).not.toContain("worker/processing/model/model-processor.ts");
    expect(packages.has("piscina")).toBe(true); // the check sees packages that are loaded
    for (const lazyPackage of ["openai", "gpt-tokenizer", "@azure/identity", "@azure/msal-node"]) expect(packages.has(lazyPackage), lazyPackage).toBe(false);
  });
});
