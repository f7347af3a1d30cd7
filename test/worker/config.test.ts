import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointContainerName } from "../../common/names";
import { readSettingsTable, SETTINGS_DOC } from "../../tools/settings-table";
import { settingsTable } from "../../worker/settings/declare";
import { helpText, parseConfig, SETTINGS, type SettingName } from "../../worker/config";
import { runProgram } from "../support/program";

const VALID_ENV = {
  EVENTHUB_CONNECTION_STRING:
    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true",
  EVENTHUB_NAME: "events",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

function problemsOf(env: Record<string, string>, argv: string[] = []): string[] {
  const result = parseConfig(argv, env);
  if (result.kind !== "invalid") throw new Error(`expected invalid, got ${result.kind}`);
  return result.problems;
}

describe("worker configuration", () => {
  it("applies the product's defaults, not the SDK's", () => {
    const result = parseConfig([], VALID_ENV);
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    const { config } = result;
    expect(config.eventHub.consumerGroup).toBe("ai-workers");
    expect(config.storage.checkpointContainer).toBe("checkpoints-ai-workers");
    expect(config.storage.deadLetterContainer).toBe("dead-letters");
    expect(config.subscription).toEqual({ maxBatchSize: 100, maxWaitTimeMs: 1000, prefetchCount: 300, startPosition: "earliest" });
    expect(config.loadBalancing.strategy).toBe("greedy");
    expect(config.processor.kind).toBe("text-insights");
    expect(config.sink).toEqual({ kind: "stdout" });
  });

  it("lets flags win over environment variables", () => {
    const result = parseConfig(["--max-batch-size", "7", "--eventhub-consumer-group", "Team_A"], { ...VALID_ENV, MAX_BATCH_SIZE: "50" });
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    expect(result.config.subscription.maxBatchSize).toBe(7);
    expect(result.config.eventHub.consumerGroup).toBe("Team_A");
    expect(result.config.storage.checkpointContainer).toBe("checkpoints-team-a");
  });

  it("derives the checkpoint container name from the consumer group", () => {
    expect(checkpointContainerName("$Default")).toBe("checkpoints-default");
    expect(checkpointContainerName("ai.workers")).toBe("checkpoints-ai-workers");
  });

  it("takes the hub name from EntityPath and rejects a different EVENTHUB_NAME", () => {
    const withPath = `${VALID_ENV.EVENTHUB_CONNECTION_STRING};EntityPath=orders`;
    const ok = parseConfig([], { EVENTHUB_CONNECTION_STRING: withPath, STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" });
    expect(ok.kind === "ok" && ok.config.eventHub.eventHubName).toBe("orders");
    const problems = problemsOf({ ...VALID_ENV, EVENTHUB_CONNECTION_STRING: withPath, EVENTHUB_NAME: "events" });
    expect(problems).toEqual([`EVENTHUB_NAME (--eventhub-name) = "events": must match the connection string's EntityPath "orders"`]);
  });

  it("reports every problem at once, naming the setting, its flag, the value and what is allowed", () => {
    const problems = problemsOf({
      MAX_BATCH_SIZE: "lots",
      START_POSITION: "middle",
      LOAD_BALANCING: "random",
      CHECKPOINT_CONTAINER: "Bad_Name",
      METRICS_PORT: "70000",
      SINK: "kafka",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "EVENTHUB_CONNECTION_STRING (--eventhub-connection-string) = (not set): required: set EVENTHUB_CONNECTION_STRING or EVENTHUB_NAMESPACE",
        "EVENTHUB_NAME (--eventhub-name) = (not set): required unless the connection string has EntityPath",
        "STORAGE_CONNECTION_STRING (--storage-connection-string) = (not set): required: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL",
        `MAX_BATCH_SIZE (--max-batch-size) = "lots": allowed: an integer from 1 to 5000`,
        `START_POSITION (--start-position) = "middle": allowed: earliest | latest`,
        `LOAD_BALANCING (--load-balancing) = "random": allowed: greedy | balanced`,
        expect.stringMatching(/^CHECKPOINT_CONTAINER \(--checkpoint-container\) = "Bad_Name": allowed: 3-63 characters/),
        `METRICS_PORT (--metrics-port) = "70000": allowed: an integer from 0 to 65535`,
        `SINK (--sink) = "kafka": allowed: stdout | eventhub | blob | http`,
      ]),
    );
    expect(problems).toHaveLength(9);
  });

  it("never echoes secrets in error messages", () => {
    const problems = problemsOf({ ...VALID_ENV, EVENTHUB_CONNECTION_STRING: "not-a-connection-string-SECRET" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^EVENTHUB_CONNECTION_STRING \(--eventhub-connection-string\) = \(30 characters, hidden\): allowed: Endpoint=sb:/);
    expect(problems[0]).not.toContain("SECRET");
  });

  it("checks settings that depend on each other", () => {
    const problems = problemsOf({
      ...VALID_ENV,
      STORAGE_ACCOUNT_URL: "https://acct.blob.core.windows.net",
      PROCESSOR: "azure-openai",
      SINK: "eventhub",
      LOAD_BALANCING_UPDATE_INTERVAL_MS: "5000",
      LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS: "5000",
    });
    const names = problems.map((p) => p.split(" ")[0]);
    expect(names.sort()).toEqual(
      [
        "AZURE_OPENAI_DEPLOYMENT",
        "AZURE_OPENAI_ENDPOINT",
        "LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS",
        "SINK_EVENTHUB_CONNECTION_STRING",
        "SINK_EVENTHUB_NAME",
        "STORAGE_ACCOUNT_URL",
      ].sort(),
    );
    expect(problems).toContain(
      `LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS (--load-balancing-ownership-expiration-ms) = "5000": must be greater than LOAD_BALANCING_UPDATE_INTERVAL_MS, which is 5000`,
    );
  });

  it("shows both values of a cross-field problem, also when one is a default", () => {
    const result = parseConfig([], { ...VALID_ENV, LOAD_BALANCING_UPDATE_INTERVAL_MS: "60000", RETRY_BASE_DELAY_MS: "20000" });
    expect(result.kind).toBe("invalid");
    expect(result.kind === "invalid" ? result.problems : []).toEqual([
      "LOAD_BALANCING_OWNERSHIP_EXPIRATION_MS (--load-balancing-ownership-expiration-ms) = (not set, so the default 30000): must be greater than LOAD_BALANCING_UPDATE_INTERVAL_MS, which is 60000",
      "RETRY_MAX_DELAY_MS (--retry-max-delay-ms) = (not set, so the default 10000): must be at least RETRY_BASE_DELAY_MS, which is 20000",
    ]);
  });

  it("maps azure-openai and blob sink settings to the core's options", () => {
    const result = parseConfig(
      ["--processor", "azure-openai", "--sink", "blob"],
      { ...VALID_ENV, AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9/", AZURE_OPENAI_DEPLOYMENT: "gpt-4o-mini", AZURE_OPENAI_API_KEY: "k" },
    );
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    expect(result.config.processor).toMatchObject({
      kind: "azure-openai",
      // The single-deployment settings are a list of one, named after the deployment.
      deployments: [{
        name: "gpt-4o-mini", priority: 0, weight: 1, quota: {},
        connection: { provider: "azure-openai", endpoint: "http://127.0.0.1:9", deployment: "gpt-4o-mini", apiKey: "k", apiVersion: "2024-10-21" },
      }],
      timeoutMs: 60_000,
      governor: { maxConcurrency: 64, initialConcurrency: 4 },
      task: { kind: "chat", budget: { maxInputTokens: 8000, overflow: "truncate" } },
    });
    expect(result.config.sink).toEqual({ kind: "blob", container: "results", prefix: "events/ai-workers/" });
  });

  it("maps an OpenAI-compatible server with structured output, quota limits and an input budget", () => {
    const dir = mkdtempSync(join(tmpdir(), "schema-"));
    const schemaPath = join(dir, "triage.schema.json");
    writeFileSync(schemaPath, JSON.stringify({ type: "object", properties: { intent: { type: "string" } }, required: ["intent"] }));
    const result = parseConfig([], {
      ...VALID_ENV, PROCESSOR: "openai", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1/", OPENAI_MODEL: "llama3.1",
      MODEL_TASK: "structured", MODEL_JSON_SCHEMA: schemaPath, MODEL_MAX_REQUESTS_PER_MINUTE: "600", MODEL_MAX_TOKENS_PER_MINUTE: "90000",
      MODEL_MAX_INPUT_TOKENS: "500", MODEL_INPUT_OVERFLOW: "dead-letter",
    });
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    expect(result.config.processor).toMatchObject({
      kind: "openai",
      deployments: [{ name: "llama3.1", connection: { provider: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "llama3.1" } }],
      governor: { maxRequestsPerMinute: 600, maxTokensPerMinute: 90_000 },
      task: { kind: "chat", jsonSchema: { name: "result", schema: { required: ["intent"] } }, budget: { maxInputTokens: 500, overflow: "dead-letter" } },
    });
  });

  it("names what a model setup is missing, and the new name of a renamed setting", () => {
    const result = parseConfig([], { ...VALID_ENV, PROCESSOR: "openai", MODEL_TASK: "structured", AZURE_OPENAI_MAX_CONCURRENCY: "8" });
    expect(result.kind).toBe("invalid");
    if (result.kind !== "invalid") return;
    expect(result.problems).toEqual([
      "AZURE_OPENAI_MAX_CONCURRENCY was renamed MODEL_MAX_CONCURRENCY (--model-max-concurrency): set that instead",
      "OPENAI_MODEL (--openai-model) = (not set): required when PROCESSOR=openai",
      "MODEL_JSON_SCHEMA (--model-json-schema) = (not set): required when MODEL_TASK=structured",
    ]);
    const badSchema = problemsOf({ ...VALID_ENV, MODEL_JSON_SCHEMA: "./no/such/schema.json" });
    expect(badSchema).toEqual([`MODEL_JSON_SCHEMA (--model-json-schema) = "./no/such/schema.json": allowed: a JSON Schema object, inline ({...}) or the path of a readable JSON file holding one`]);
    const inline = parseConfig([], { ...VALID_ENV, PROCESSOR: "openai", OPENAI_MODEL: "m", MODEL_TASK: "structured", MODEL_JSON_SCHEMA: '{"type":"object","required":["intent"]}' });
    expect(inline.kind === "ok" && inline.config.processor).toMatchObject({ task: { jsonSchema: { schema: { type: "object", required: ["intent"] } } } });
    expect(problemsOf({ ...VALID_ENV, MODEL_JSON_SCHEMA: '{"type": 12}' })).toHaveLength(1); // inline, but does not compile
  });

  it("reads MODEL_DEPLOYMENTS: both providers, priorities, weights, quotas, keys from the variables they name", () => {
    const deployments = [
      { name: "ptu", provider: "azure-openai", endpoint: "https://ptu.openai.azure.com/", deployment: "gpt-4o-mini", requestsPerMinute: 600, tokensPerMinute: 100_000 },
      { name: "paygo", provider: "azure-openai", endpoint: "https://paygo.openai.azure.com", deployment: "gpt-4o-mini", apiKeyEnv: "PAYGO_KEY", priority: 1, weight: 2 },
      { name: "local", provider: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "llama3.1", priority: 2 },
    ];
    const result = parseConfig([], { ...VALID_ENV, PROCESSOR: "model", MODEL_DEPLOYMENTS: JSON.stringify(deployments), PAYGO_KEY: "paygo-secret" });
    expect(result.kind).toBe("ok");
    if (result.kind !== "ok") return;
    expect(result.config.processor).toMatchObject({
      kind: "model",
      deployments: [
        { name: "ptu", priority: 0, weight: 1, quota: { requestsPerMinute: 600, tokensPerMinute: 100_000 },
          connection: { provider: "azure-openai", endpoint: "https://ptu.openai.azure.com", deployment: "gpt-4o-mini", apiVersion: "2024-10-21" } },
        { name: "paygo", priority: 1, weight: 2, quota: {}, connection: { apiKey: "paygo-secret" } },
        { name: "local", priority: 2, connection: { provider: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "llama3.1" } },
      ],
    });
    const [ptu] = (result.config.processor as { deployments: Array<{ connection: object }> }).deployments;
    expect(ptu?.connection).not.toHaveProperty("apiKey"); // no apiKeyEnv: Entra ID
    // The same list from a file.
    const file = join(mkdtempSync(join(tmpdir(), "deployments-")), "deployments.json");
    writeFileSync(file, JSON.stringify(deployments));
    expect(parseConfig([], { ...VALID_ENV, PROCESSOR: "model", MODEL_DEPLOYMENTS: `@${file}`, PAYGO_KEY: "k" }).kind).toBe("ok");
  });

  it("lists every problem of a malformed MODEL_DEPLOYMENTS at once, without printing a key", () => {
    const deployments = [
      { name: "primary", provider: "azure-openai", endpoint: "https://a.openai.azure.com", deployment: "gpt", apiKey: "sk-pasted-secret" },
      { name: "Primary", provider: "azure-openai", deployment: "gpt", requestsPerMinute: -5 },
      { name: "third", provider: "openai", model: "m", apiKeyEnv: "EMPTY_KEY" },
    ];
    const problems = problemsOf({ ...VALID_ENV, PROCESSOR: "model", MODEL_DEPLOYMENTS: JSON.stringify(deployments), EMPTY_KEY: "" });
    const shown = "MODEL_DEPLOYMENTS (--model-deployments) = (" + JSON.stringify(deployments).length + " characters, hidden): ";
    expect(problems).toEqual([
      `${shown}deployment "third": apiKeyEnv names EMPTY_KEY, which is not set or empty`,
      `${shown}deployment 1 ("primary"): unknown key "apiKey"; allowed: name, provider, apiKeyEnv, priority, weight, requestsPerMinute, tokensPerMinute, endpoint, deployment, apiVersion, baseUrl, model (put an API key in an environment variable and name it in apiKeyEnv)`,
      `${shown}deployment 2 ("Primary"): requestsPerMinute must be a whole number from 1 to 100000000`,
      `${shown}deployment 2 ("Primary"): endpoint is required for provider azure-openai`,
    ]);
    expect(problems.join("\n")).not.toContain("sk-pasted-secret");
    // Names are compared once both deployments are otherwise sound.
    const sound = deployments.slice(0, 2).map(({ apiKey: _key, requestsPerMinute: _rpm, ...rest }) => ({ ...rest, endpoint: "https://b.openai.azure.com" }));
    expect(problemsOf({ ...VALID_ENV, PROCESSOR: "model", MODEL_DEPLOYMENTS: JSON.stringify(sound) })).toEqual([
      `MODEL_DEPLOYMENTS (--model-deployments) = (${JSON.stringify(sound).length} characters, hidden): deployment 2 ("Primary"): the name is already used by deployment 1 (names are unique, case-insensitive)`,
    ]);
    expect(problemsOf({ ...VALID_ENV, PROCESSOR: "model", MODEL_DEPLOYMENTS: '[{"name": "x", sk-oops}]' })).toEqual([
      "MODEL_DEPLOYMENTS (--model-deployments) = (24 characters, hidden): the value is not JSON (error at character 16): expected a list of deployment objects",
    ]);
    expect(problemsOf({ ...VALID_ENV, PROCESSOR: "model" })).toEqual(["MODEL_DEPLOYMENTS (--model-deployments) = (not set): required when PROCESSOR=model"]);
    expect(problemsOf({ ...VALID_ENV, PROCESSOR: "azure-openai", AZURE_OPENAI_ENDPOINT: "https://a.openai.azure.com", AZURE_OPENAI_DEPLOYMENT: "gpt", MODEL_DEPLOYMENTS: JSON.stringify(sound.slice(0, 1)) })).toEqual([
      `MODEL_DEPLOYMENTS (--model-deployments) = (${JSON.stringify(sound.slice(0, 1)).length} characters, hidden): lists deployments for PROCESSOR=model; PROCESSOR=azure-openai calls the one its own settings name. Set PROCESSOR=model, or unset MODEL_DEPLOYMENTS`,
    ]);
  });

  it("lists every setting in docs/configuration.md's worker settings table, and nothing that is not one", () => {
    const page = readFileSync(SETTINGS_DOC, "utf8");
    const documented = [...readSettingsTable(page).matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(SETTINGS).sort());
    // The whole table is generated from the declarations (npm run settings-table), so defaults and help match too.
    expect(readSettingsTable(page), "docs/configuration.md settings table is stale: run npm run settings-table").toBe(settingsTable(SETTINGS));
  });

  it("documents every setting in --help with its environment variable", () => {
    const help = helpText();
    for (const name of Object.keys(SETTINGS) as SettingName[]) {
      expect(help).toContain(`[env: ${name}]`);
      expect(help).toContain(`--${name.toLowerCase().replaceAll("_", "-")} <value>`);
    }
  });
});

describe("worker CLI exit codes", () => {
  const run = (args: string[], env: Record<string, string>) => runProgram("worker/cli.ts", args, env, 30_000);

  it("exits 2 with one line per bad value before connecting to anything", async () => {
    // The endpoints point at a closed port: reaching them would hang or fail differently, not exit 2 at once.
    const result = await run(["--max-wait-ms", "soon", "--prefetch-count", "-1"], {
      ...VALID_ENV,
      START_POSITION: "yesterday",
      RETRY_MAX_ATTEMPTS: "0",
      PROCESSOR: "./no/such/model.js",
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
    expect(lines).toEqual([
      `  - MAX_WAIT_MS (--max-wait-ms) = "soon": allowed: an integer from 10 to 600000`,
      `  - PREFETCH_COUNT (--prefetch-count) = "-1": allowed: an integer from 1 to 100000`,
      `  - START_POSITION (--start-position) = "yesterday": allowed: earliest | latest`,
      `  - PROCESSOR (--processor) = "./no/such/model.js": allowed: text-insights | model | azure-openai | openai | a path to an existing .js/.ts module`,
      `  - RETRY_MAX_ATTEMPTS (--retry-max-attempts) = "0": allowed: an integer from 1 to 100`,
    ]);
    expect(result.stderr).toMatch(/^Invalid worker configuration \(5 problems\):/);
  });

  it("exits 2 on an unknown flag and 0 on --help", async () => {
    const unknown = await run(["--max-batch"], VALID_ENV);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--max-batch'");
    const help = await run(["--help"], {});
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--checkpoint-every-events");
  });
});
