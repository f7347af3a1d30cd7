import { describe, expect, it } from "vitest";
import { StackConfigError, validateStackConfig, type ConfigProblem } from "../../infra/config";

/** The `model` setting: its rules, each problem at its path below `model`, all of them at once. */

const BASE = { location: "westeurope", deployWorker: true, workerImage: "ai-worker:1.0.0" };
const PRIMARY = { name: "primary", model: "gpt-4o-mini", version: "2024-07-18", sku: "GlobalStandard", capacity: 30 };
const TRIAGE_SCHEMA = {
  type: "object",
  properties: {
    intent: { type: "string" },
    urgency: { type: "string", enum: ["low", "medium", "high"] },
    entities: {
      type: "array",
      items: { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false },
    },
  },
  required: ["intent", "urgency", "entities"],
  additionalProperties: false,
};

function problemsOf(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    validateStackConfig({ ...BASE, ...raw });
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return [...(error as StackConfigError).problems];
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

const withDeployment = (changes: Record<string, unknown>, model: Record<string, unknown> = {}) => ({
  model: { task: "chat", deployments: [{ ...PRIMARY, ...changes }], ...model },
});

describe("a valid model", () => {
  it("reads the documented example, filling priority, weight and the task", () => {
    const { model } = validateStackConfig({
      ...BASE,
      model: {
        systemPrompt: "Classify the message.",
        deployments: [PRIMARY],
        existing: [{ name: "overflow", endpoint: "https://other.openai.azure.com/", deployment: "gpt-4o-mini", requestsPerMinute: 600, tokensPerMinute: 100000, priority: 1 }],
      },
    });
    expect(model).toEqual({
      task: "chat",
      systemPrompt: "Classify the message.",
      deployments: [{ ...PRIMARY, priority: 0, weight: 1 }],
      existing: [{ name: "overflow", endpoint: "https://other.openai.azure.com", deployment: "gpt-4o-mini", requestsPerMinute: 600, tokensPerMinute: 100000, priority: 1, weight: 1 }],
    });
  });

  it("reads it as Pulumi hands it over: JSON text, numbers as text (config set --path), the schema as JSON text", () => {
    const model = {
      task: "structured",
      responseSchema: JSON.stringify(TRIAGE_SCHEMA),
      deployments: [{ ...PRIMARY, capacity: "30", priority: "0", weight: "2" }],
    };
    const config = validateStackConfig({ ...BASE, model: JSON.stringify(model) });
    expect(config.model).toMatchObject({ task: "structured", responseSchema: TRIAGE_SCHEMA, deployments: [{ capacity: 30, priority: 0, weight: 2 }] });
  });

  it.each([
    ["absent", undefined],
    ["an empty object (Pulumi.yaml's default)", {}],
    ["an empty object as text", "{}"],
  ])("means no model when %s", (_what, model) => {
    expect(validateStackConfig({ ...BASE, model }).model).toBeUndefined();
  });

  it.each([
    ["provisioned gpt-4o at the global minimum", { model: "gpt-4o", version: "2024-11-20", sku: "GlobalProvisionedManaged", capacity: 15 }],
    ["provisioned gpt-4o one global step up", { model: "gpt-4o", version: "2024-11-20", sku: "DataZoneProvisionedManaged", capacity: 20 }],
    ["regional provisioned gpt-4o-mini", { sku: "ProvisionedManaged", capacity: 75 }],
    ["regional provisioned o1 (25, then steps of 50)", { model: "o1", version: "2024-12-17", sku: "ProvisionedManaged", capacity: 75 }],
    ["a standard o3-mini with a numbered version", { model: "o3-mini", version: "2025-01-31", sku: "Standard", capacity: 1 }],
    ["gpt-4 with a prefixed date version", { model: "gpt-4", version: "turbo-2024-04-09", sku: "Standard", capacity: 10 }],
  ])("accepts %s", (_what, changes) => {
    expect(() => validateStackConfig({ ...BASE, ...withDeployment(changes) })).not.toThrow();
  });

  it("accepts an embeddings task on embedding models, and a model of existing deployments only", () => {
    expect(() =>
      validateStackConfig({ ...BASE, model: { task: "embeddings", deployments: [{ ...PRIMARY, model: "text-embedding-3-small", version: "1", sku: "Standard" }] } }),
    ).not.toThrow();
    expect(
      validateStackConfig({ ...BASE, model: { existing: [{ name: "shared", endpoint: "https://shared.openai.azure.com", deployment: "gpt-4o" }] } }).model?.deployments,
    ).toEqual([]);
  });
});

describe("each rule rejects a bad model, at its path, naming what is allowed", () => {
  const existing = (changes: Record<string, unknown>) => ({
    model: { existing: [{ name: "shared", endpoint: "https://shared.openai.azure.com", deployment: "gpt-4o", ...changes }] },
  });
  const structured = (responseSchema: unknown) => ({ model: { task: "structured", responseSchema, deployments: [PRIMARY] } });
  const cases: [string, Record<string, unknown>, string, unknown, RegExp][] = [
    ["an unknown key", { model: { deployments: [PRIMARY], temperature: 0.2 } }, "model.temperature", undefined, /is not a key here; allowed keys: task, systemPrompt, responseSchema, deployments, existing/],
    ["a key in the wrong place, its value unshown", withDeployment({ apiKey: "sk-secret" }), "model.deployments[0].apiKey", undefined, /allowed keys: name, model, version, sku, capacity, priority, weight/],
    ["an unknown task", withDeployment({}, { task: "summarize" }), "model.task", "summarize", /must be one of chat, structured, embeddings/],
    ["a deployment without a name", withDeployment({ name: undefined }), "model.deployments[0].name", undefined, /is required: 1-64 letters, digits/],
    ["a name with a space", withDeployment({ name: "my model" }), "model.deployments[0].name", "my model", /must be 1-64 letters, digits, '.', '-' or '_'/],
    ["a model name with a slash", withDeployment({ model: "openai/gpt-4o" }), "model.deployments[0].model", "openai/gpt-4o", /a base model name such as gpt-4o-mini/],
    ["an impossible date version", withDeployment({ version: "2024-13-01" }), "model.deployments[0].version", "2024-13-01", /a date \(2024-07-18\), a prefixed date/],
    ["a version that is a word", withDeployment({ version: "latest" }), "model.deployments[0].version", "latest", /a model version as Azure lists it/],
    ["an unknown SKU", withDeployment({ sku: "Premium" }), "model.deployments[0].sku", "Premium", /must be one of Standard, GlobalStandard, DataZoneStandard, ProvisionedManaged, GlobalProvisionedManaged, DataZoneProvisionedManaged \(Azure's deployment types\)/],
    ["a batch SKU", withDeployment({ sku: "GlobalBatch" }), "model.deployments[0].sku", "GlobalBatch", /cannot be used: a batch deployment takes files through the Batch API/],
    ["the fine-tuning SKU", withDeployment({ sku: "DeveloperTier" }), "model.deployments[0].sku", "DeveloperTier", /serves fine-tuned models only/],
    ["no capacity", withDeployment({ capacity: undefined }), "model.deployments[0].capacity", undefined, /is required: a whole number from 1 to 100000/],
    ["zero capacity", withDeployment({ capacity: 0 }), "model.deployments[0].capacity", 0, /must be a whole number from 1 to 100000/],
    ["capacity beyond Azure's maximum", withDeployment({ capacity: 100001 }), "model.deployments[0].capacity", 100001, /from 1 to 100000/],
    ["capacity in words", withDeployment({ capacity: "lots" }), "model.deployments[0].capacity", "lots", /whole number/],
    ["global PTUs between steps", withDeployment({ model: "gpt-4o", sku: "GlobalProvisionedManaged", capacity: 17 }), "model.deployments[0].capacity", 17, /GlobalProvisionedManaged deployments of gpt-4o take 15 PTUs or more, in steps of 5 \(15, 20, 25, \.\.\.\)/],
    ["global PTUs below the minimum", withDeployment({ model: "gpt-4.1", version: "2025-04-14", sku: "DataZoneProvisionedManaged", capacity: 10 }), "model.deployments[0].capacity", 10, /take 15 PTUs or more/],
    ["regional PTUs between steps", withDeployment({ model: "gpt-4o", sku: "ProvisionedManaged", capacity: 60 }), "model.deployments[0].capacity", 60, /ProvisionedManaged deployments of gpt-4o take 50 PTUs or more, in steps of 50 \(50, 100, 150/],
    ["PTUs of a model Microsoft lists no sizes for", withDeployment({ model: "gpt-35-turbo", version: "0125", sku: "GlobalProvisionedManaged", capacity: 15 }), "model.deployments[0].model", "gpt-35-turbo", /has no provisioned \(GlobalProvisionedManaged\) sizes in Microsoft's PTU table, which lists gpt-5, gpt-4.1/],
    ["a priority beyond 100", withDeployment({ priority: 101 }), "model.deployments[0].priority", 101, /from 0 to 100/],
    ["a zero weight", withDeployment({ weight: 0 }), "model.deployments[0].weight", 0, /from 1 to 1000/],
    ["an embeddings task on a chat model", withDeployment({}, { task: "embeddings" }), "model.deployments[0].model", "gpt-4o-mini", /cannot answer the embeddings task: deploy an embedding model \(text-embedding-3-small/],
    ["a chat task on an embedding model", withDeployment({ model: "text-embedding-3-large", version: "1" }), "model.deployments[0].model", "text-embedding-3-large", /is an embedding model and cannot answer the chat task/],
    ["no deployment at all", { model: { task: "chat" } }, "model.deployments", undefined, /none listed: a model needs at least one deployment/],
    ["33 deployments in all", { model: { deployments: Array.from({ length: 30 }, (_, i) => ({ ...PRIMARY, name: `d${i}` })), existing: Array.from({ length: 3 }, (_, i) => ({ name: `e${i}`, endpoint: "https://x.openai.azure.com", deployment: "d" })) } }, "model.existing", undefined, /makes 33 deployments in all; the worker calls at most 32/],
    ["33 deployments to create", { model: { deployments: Array.from({ length: 33 }, (_, i) => ({ ...PRIMARY, name: `d${i}` })) } }, "model.deployments", undefined, /lists 33; an Azure OpenAI account holds at most 32 standard deployments/],
    ["a name used twice, across the lists", { model: { deployments: [PRIMARY], existing: [{ name: "Primary", endpoint: "https://x.openai.azure.com", deployment: "d" }] } }, "model.existing[0].name", "Primary", /is already the name of deployments\[0\] \(names are unique across deployments and existing, case-insensitive\)/],
    ["an existing endpoint over http", existing({ endpoint: "http://shared.openai.azure.com" }), "model.existing[0].endpoint", "http://shared.openai.azure.com", /must be an https URL/],
    ["an existing endpoint with a query", existing({ endpoint: "https://shared.openai.azure.com/?api-key=x" }), "model.existing[0].endpoint", "https://shared.openai.azure.com/?api-key=x", /no query, fragment or credentials/],
    ["an existing deployment without an endpoint", existing({ endpoint: undefined }), "model.existing[0].endpoint", undefined, /is required: the account's https endpoint/],
    ["an existing deployment with a bad API version", existing({ apiVersion: "v1" }), "model.existing[0].apiVersion", "v1", /data-plane API version such as 2024-10-21/],
    ["an existing deployment with no requests per minute", existing({ requestsPerMinute: 0 }), "model.existing[0].requestsPerMinute", 0, /from 1 to 100000000 \(its quota for the whole fleet\)/],
    ["a structured task without a schema", { model: { task: "structured", deployments: [PRIMARY] } }, "model.responseSchema", undefined, /is required when task is structured/],
    ["a schema that is not an object", structured("[]"), "model.responseSchema", [], /must be a JSON Schema object/],
    ["a schema that does not compile", structured({ type: "object", properties: { a: { type: "strin" } }, required: ["a"], additionalProperties: false }), "model.responseSchema", undefined, /does not compile as a JSON Schema: schema is invalid/],
    ["a schema whose root is not an object", structured({ type: "array", items: { type: "string" } }), "model.responseSchema.type", "array", /must be "object": structured outputs answer with a JSON object/],
    ["a schema with an open nested object", structured({ ...TRIAGE_SCHEMA, properties: { ...TRIAGE_SCHEMA.properties, entities: { type: "array", items: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } } } }), "model.responseSchema.properties.entities.items.additionalProperties", undefined, /must be false: structured outputs require it on every object/],
    ["a schema with an optional property", structured({ ...TRIAGE_SCHEMA, required: ["intent", "urgency"] }), "model.responseSchema.required", ["intent", "urgency"], /must list every property \(missing entities\)/],
    ["a schema for a chat task", withDeployment({}, { responseSchema: TRIAGE_SCHEMA }), "model.responseSchema", undefined, /is used by the structured task only; the chat task would ignore it/],
    ["a prompt for embeddings", { model: { task: "embeddings", systemPrompt: "Summarize.", deployments: [{ ...PRIMARY, model: "text-embedding-3-small", version: "1" }] } }, "model.systemPrompt", undefined, /is used by the chat and structured tasks only/],
    ["an empty prompt", withDeployment({}, { systemPrompt: "  " }), "model.systemPrompt", "", /must not be empty/],
    ["workers elsewhere with no principal to grant", { deployWorker: false, ...withDeployment({}) }, "principalId", "", /is required when model lists deployments and deployWorker is false: .*Cognitive Services OpenAI User/],
    ["an account behind a perimeter", { deployWorker: false, principalId: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", publicNetworkAccess: "SecuredByPerimeter", ...withDeployment({}) }, "publicNetworkAccess", "SecuredByPerimeter", /must be Enabled or Disabled when model lists deployments/],
  ];

  it.each(cases)("%s", (_name, raw, key, value, message) => {
    const problems = problemsOf(raw);
    expect(problems, JSON.stringify(problems)).toHaveLength(1);
    expect(problems[0]).toEqual({ key, value, message: expect.stringMatching(message) });
  });
});

describe("reporting", () => {
  it("reports every problem of a model at once, with the rest of the config's, one line each", () => {
    let error: unknown;
    try {
      validateStackConfig({
        ...BASE,
        partitionCount: 64,
        model: {
          task: "structured",
          deployments: [
            { ...PRIMARY, sku: "Premium", version: "latest" },
            { ...PRIMARY, model: "gpt-4o", sku: "GlobalProvisionedManaged", capacity: 16 },
            { ...PRIMARY, name: "backup", capacity: 0 },
          ],
          existing: [{ name: "backup", endpoint: "ftp://x", deployment: "d" }],
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    const { problems, message } = error as StackConfigError;
    expect(problems.map((p) => p.key)).toEqual([
      "model.deployments[0].version",
      "model.deployments[0].sku",
      "model.deployments[2].capacity",
      "model.existing[0].endpoint",
      "model.deployments[1].name",
      "model.existing[0].name",
      "model.deployments[1].capacity",
      "model.responseSchema",
      "partitionCount",
    ]);
    expect(message).toMatch(/^Invalid stack configuration \(9 problems\)/);
    expect(message).toContain('model.deployments[0].sku = "Premium": must be one of Standard,');
    expect(message).toContain("model.responseSchema: is required when task is structured");
    expect(message.split("\n")).toHaveLength(1 + 9);
  });
});
