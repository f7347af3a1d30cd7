import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  StackConfigError,
  validateStackConfig,
} from "../../infra/config";
import { problemsOf } from "./configProblems";

const LOCATION = { location: "westeurope" };
const PRINCIPAL = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

describe("valid config", () => {
  it("fills every default and normalises the region", () => {
    const config = validateStackConfig({ location: "West Europe" });
    expect(config).toEqual({
      ...CONFIG_DEFAULTS,
      location: "westeurope",
      consumerGroups: ["ai-workers"],
      principalId: undefined,
      tags: {},
      workerImage: undefined,
      workerCpu: 1,
      model: undefined,
      virtualNetworkId: undefined,
      virtualNetworkAddressPrefixes: ["10.60.0.0/16"],
      diagnosticsWorkspaceId: undefined,
      geoDrPartnerNamespaceId: undefined,
    });
  });

  it("reads values as Pulumi stores them: text, with lists as JSON", () => {
    const config = validateStackConfig({
      ...LOCATION,
      partitionCount: "8",
      eventHubsCapacity: " 2 ",
      autoInflate: "True",
      autoInflateMaxThroughputUnits: "10",
      consumerGroups: '["ai-workers","analytics"]',
      tags: '["owner=team-ai","cost-center=42=x"]',
      disableLocalAuth: "true",
      principalId: PRINCIPAL,
    });
    expect(config).toMatchObject({
      partitionCount: 8,
      eventHubsCapacity: 2,
      autoInflate: true,
      autoInflateMaxThroughputUnits: 10,
      consumerGroups: ["ai-workers", "analytics"],
      tags: { owner: "team-ai", "cost-center": "42=x" },
      disableLocalAuth: true,
      principalId: PRINCIPAL,
    });
  });

  it.each([
    ["Premium at its limits", { eventHubsSku: "Premium", eventHubsCapacity: 16, partitionCount: 100, retentionHours: 2160 }],
    ["Standard at its limits", { eventHubsCapacity: 40, partitionCount: 32, retentionHours: 168, autoInflate: true, autoInflateMaxThroughputUnits: 40 }],
    ["Basic with $Default", { eventHubsSku: "Basic", consumerGroups: ["$Default"], retentionHours: 24 }],
    ["Standard with 19 groups plus $Default", { consumerGroups: Array.from({ length: 19 }, (_, i) => `group-${i}`) }],
    ["Entra ID mode with a principal", { disableLocalAuth: true, principalId: PRINCIPAL }],
    ["Entra ID mode whose hosted workers' identity gets the roles", { disableLocalAuth: true, deployWorker: true, workerImage: "ai-worker:1.0.0" }],
    [
      "a hosted worker with every setting, as text",
      { deployWorker: "true", workerImage: `team/ai-worker@sha256:${"ab".repeat(32)}`, workerMinReplicas: "0", unprocessedEventThreshold: "100", workerCpu: "0.5" },
    ],
    ["a replica per partition kept warm", { deployWorker: true, workerImage: "ai-worker:v2", workerMinReplicas: 4, workerCpu: "4" }],
    ["the registry alone, before any image exists", { workerRegistry: true }],
    ["a replica ceiling of its own, as text", { deployWorker: true, workerImage: "ai-worker:v2", workerMinReplicas: 2, workerMaxReplicas: "3" }],
  ])("accepts %s", (_name, raw) => {
    expect(() => validateStackConfig({ ...LOCATION, ...raw })).not.toThrow();
  });

  it("spells $Default the way Azure does whatever the case written", () => {
    expect(validateStackConfig({ ...LOCATION, consumerGroups: ["$default"] }).consumerGroups).toEqual(["$Default"]);
  });
});

describe("each rule rejects a bad value, naming key, value and what is allowed", () => {
  const cases: [string, Record<string, unknown>, string, unknown, RegExp][] = [
    ["missing region", { location: undefined }, "azure-native:location", undefined, /is not set: run `pulumi config set azure-native:location/],
    ["malformed region", { location: "west-europe!" }, "azure-native:location", "west-europe!", /Azure region name/],
    ["upper-case prefix", { namePrefix: "AI" }, "namePrefix", "AI", /2-10 lowercase letters or digits starting with a letter/],
    ["long prefix", { namePrefix: "averylongprefix" }, "namePrefix", "averylongprefix", /2-10 lowercase/],
    ["prefix starting with a digit", { namePrefix: "1ai" }, "namePrefix", "1ai", /starting with a letter/],
    ["unknown tier", { eventHubsSku: "Gold" }, "eventHubsSku", "Gold", /must be one of Basic, Standard, Premium/],
    ["capacity as words", { eventHubsCapacity: "two" }, "eventHubsCapacity", "two", /whole number/],
    ["zero throughput units", { eventHubsCapacity: 0 }, "eventHubsCapacity", 0, /Standard namespaces take 1-40 throughput units/],
    ["41 throughput units", { eventHubsCapacity: 41 }, "eventHubsCapacity", 41, /1-40 throughput units/],
    ["5 processing units", { eventHubsSku: "Premium", eventHubsCapacity: 5 }, "eventHubsCapacity", 5, /Premium namespaces take 1, 2, 4, 6, 8, 10, 12 or 16 processing units/],
    ["auto-inflate not a boolean", { autoInflate: "yes" }, "autoInflate", "yes", /must be true or false/],
    ["auto-inflate on Basic", { eventHubsSku: "Basic", consumerGroups: ["$Default"], autoInflate: true }, "autoInflate", true, /Standard-tier feature; Basic namespaces cannot auto-inflate/],
    ["auto-inflate on Premium", { eventHubsSku: "Premium", autoInflate: true }, "autoInflate", true, /Premium namespaces cannot auto-inflate/],
    ["auto-inflate without a maximum", { autoInflate: true }, "autoInflateMaxThroughputUnits", 0, /with autoInflate on, must be 1-40/],
    ["auto-inflate maximum below capacity", { autoInflate: true, eventHubsCapacity: 5, autoInflateMaxThroughputUnits: 3 }, "autoInflateMaxThroughputUnits", 3, /must be 5-40 \(at least eventHubsCapacity\)/],
    ["auto-inflate maximum above 40", { autoInflate: true, autoInflateMaxThroughputUnits: 41 }, "autoInflateMaxThroughputUnits", 41, /must be 1-40/],
    ["a maximum with auto-inflate off", { autoInflateMaxThroughputUnits: 10 }, "autoInflateMaxThroughputUnits", 10, /only applies with autoInflate true/],
    ["unknown network access", { publicNetworkAccess: "Open" }, "publicNetworkAccess", "Open", /Enabled, Disabled, SecuredByPerimeter/],
    ["hub name starting with a hyphen", { eventHubName: "-events" }, "eventHubName", "-events", /1-50 characters of letters, digits/],
    ["hub name with a space", { eventHubName: "my events" }, "eventHubName", "my events", /1-50 characters/],
    ["hub name of 51 characters", { eventHubName: "e".repeat(51) }, "eventHubName", "e".repeat(51), /1-50 characters/],
    ["zero partitions", { partitionCount: 0 }, "partitionCount", 0, /Standard event hubs take 1-32 partitions \(Premium up to 100\)/],
    ["33 partitions on Standard", { partitionCount: 33 }, "partitionCount", 33, /1-32 partitions/],
    ["33 partitions on Basic", { eventHubsSku: "Basic", consumerGroups: ["$Default"], partitionCount: 33 }, "partitionCount", 33, /Basic event hubs take 1-32 partitions/],
    ["101 partitions on Premium", { eventHubsSku: "Premium", partitionCount: 101 }, "partitionCount", 101, /Premium event hubs take 1-100 partitions/],
    ["fractional partitions", { partitionCount: 4.5 }, "partitionCount", 4.5, /whole number/],
    ["25 hours on Basic", { eventHubsSku: "Basic", consumerGroups: ["$Default"], retentionHours: 25 }, "retentionHours", 25, /Basic event hubs keep events for 1-24 hours/],
    ["169 hours on Standard", { retentionHours: 169 }, "retentionHours", 169, /1-168 hours/],
    ["2161 hours on Premium", { eventHubsSku: "Premium", retentionHours: 2161 }, "retentionHours", 2161, /1-2160 hours/],
    ["zero hours", { retentionHours: 0 }, "retentionHours", 0, /1-168 hours/],
    ["no consumer group", { consumerGroups: [] }, "consumerGroups", [], /at least one consumer group/],
    ["consumer groups not a list", { consumerGroups: "ai-workers" }, "consumerGroups", "ai-workers", /list of consumer group names/],
    ["bad consumer group name", { consumerGroups: ["ai-workers", "ai workers"] }, "consumerGroups[1]", "ai workers", /\$Default or 1-50 characters/],
    ["custom group on Basic", { eventHubsSku: "Basic" }, "consumerGroups", ["ai-workers"], /Basic event hubs have only the \$Default consumer group: set consumerGroups to \["\$Default"\]/],
    ["21 groups on Standard", { consumerGroups: Array.from({ length: 20 }, (_, i) => `group-${i}`) }, "consumerGroups", Array.from({ length: 20 }, (_, i) => `group-${i}`), /Standard event hubs allow 20 consumer groups including \$Default/],
    ["a group listed twice", { consumerGroups: ["workers", "Workers"] }, "consumerGroups", ["workers", "Workers"], /lists Workers twice/],
    ["groups sharing a container", { consumerGroups: ["ai_workers", "ai-workers"] }, "consumerGroups", ["ai_workers", "ai-workers"], /share the checkpoint container checkpoints-ai-workers/],
    ["premium page-blob storage", { storageSku: "Premium_LRS" }, "storageSku", "Premium_LRS", /must be one of Standard_LRS, Standard_ZRS/],
    ["principal that is not a GUID", { principalId: "my-identity" }, "principalId", "my-identity", /object \(principal\) id GUID/],
    ["Entra ID mode without a principal", { disableLocalAuth: true }, "principalId", "", /required when disableLocalAuth is true/],
    ["tag without a value separator", { tags: ["owner"] }, "tags[0]", "owner", /name=value/],
    ["tag name with a slash", { tags: ["team/owner=ai"] }, "tags[0]", "team/owner=ai", /without < > % & \\ \? \//],
    ["tag value over 256 characters", { tags: [`owner=${"x".repeat(257)}`] }, "tags[0]", `owner=${"x".repeat(257)}`, /at most 256 characters/],
    ["tag the program sets", { tags: ["managed-by=me"] }, "tags[0]", "managed-by=me", /set by the program/],
    ["tag set twice", { tags: ["Owner=a", "owner=b"] }, "tags", ["Owner=a", "owner=b"], /sets the tag owner twice/],
    ["too many tags", { tags: Array.from({ length: 48 }, (_, i) => `t${i}=v`) }, "tags", Array.from({ length: 48 }, (_, i) => `t${i}=v`), /at most 47 tags/],
    ["hosted worker without an image", { deployWorker: true }, "workerImage", "", /is required when deployWorker is true: <repository>:<tag> or <repository>@sha256:<digest>/],
    ["deployWorker not a boolean", { deployWorker: "yes" }, "deployWorker", "yes", /must be true or false/],
    ["image naming a registry", { workerImage: "crx.azurecr.io/ai-worker:1" }, "workerImage", "crx.azurecr.io/ai-worker:1", /must not name a registry: .*adds its login server/],
    ["image without a tag", { workerImage: "ai-worker" }, "workerImage", "ai-worker", /must be <repository>:<tag> or <repository>@sha256:<digest>/],
    ["image with upper case", { workerImage: "AI-Worker:1" }, "workerImage", "AI-Worker:1", /must be <repository>:<tag>/],
    ["image with a short digest", { workerImage: "ai-worker@sha256:abc" }, "workerImage", "ai-worker@sha256:abc", /must be <repository>:<tag>/],
    ["image tagged latest", { workerImage: "ai-worker:latest" }, "workerImage", "ai-worker:latest", /must not use the tag latest/],
    ["more warm replicas than partitions", { workerMinReplicas: 5 }, "workerMinReplicas", 5, /must be 0-4: .*more replicas than partitionCount \(4\) would own no partition/],
    ["negative replicas", { workerMinReplicas: -1 }, "workerMinReplicas", -1, /must be 0-4/],
    ["replicas as words", { workerMinReplicas: "one" }, "workerMinReplicas", "one", /whole number: 0 up to partitionCount/],
    ["zero lag threshold", { unprocessedEventThreshold: 0 }, "unprocessedEventThreshold", 0, /must be 1-1000000 events of lag per replica/],
    ["lag threshold too high", { unprocessedEventThreshold: "1000001" }, "unprocessedEventThreshold", 1000001, /must be 1-1000000/],
    ["CPU between steps", { workerCpu: "0.3" }, "workerCpu", 0.3, /0.25 to 4 in steps of 0.25/],
    ["CPU above the Consumption maximum", { workerCpu: "8" }, "workerCpu", 8, /0.25 to 4 in steps of 0.25/],
    ["CPU as words", { workerCpu: "lots" }, "workerCpu", "lots", /must be vCPUs from 0.25 to 4/],
    ["hosted worker behind disabled public access", { deployWorker: true, workerImage: "ai-worker:1", publicNetworkAccess: "Disabled" }, "publicNetworkAccess", "Disabled", /must be Enabled when deployWorker is true and privateNetworking is false: the Container Apps environment then has no virtual network/],
    ["misspelt setting", { partitionCont: "8" }, "partitionCont", "8", /is not a setting of this stack; known settings: .*partitionCount/],
    ["a replica ceiling above the partitions", { workerMaxReplicas: 5 }, "workerMaxReplicas", 5, /must be 0 \(as many as the partitions and the model's quota keep busy\) or 1-4/],
    ["a replica ceiling below the warm replicas", { workerMinReplicas: 3, workerMaxReplicas: 2 }, "workerMaxReplicas", 2, /or 3-4: at least workerMinReplicas/],
    ["a negative replica ceiling", { workerMaxReplicas: -1 }, "workerMaxReplicas", -1, /must be 0 .* or 1-4/],
    ["a model that is not an object", { model: "[1]" }, "model", [1], /must be an object: \{ task, systemPrompt\?, responseSchema\?, deployments\?, existing\? \}/],
  ];

  it.each(cases)("%s", (_name, raw, key, value, message) => {
    const problems = problemsOf({ ...LOCATION, ...raw });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ key, value });
    expect(problems[0]!.message).toMatch(message);
  });
});

describe("reporting", () => {
  it("reports every problem of a config at once, in one readable error", () => {
    const raw = {
      eventHubsSku: "Basic",
      partitionCount: "64",
      retentionHours: 48,
      publicNetworkAccess: "Open",
      principalId: "nope",
    };
    let error: unknown;
    try {
      validateStackConfig(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    const { problems, message } = error as StackConfigError;
    expect(problems.map((p) => p.key).sort()).toEqual(
      ["azure-native:location", "consumerGroups", "partitionCount", "principalId", "publicNetworkAccess", "retentionHours"].sort(),
    );
    expect(message).toMatch(/^Invalid stack configuration \(6 problems\)/);
    expect(message).toContain("partitionCount = 64: Basic event hubs take 1-32 partitions");
    expect(message).toContain("retentionHours = 48: Basic event hubs keep events for 1-24 hours");
    expect(message).toContain('publicNetworkAccess = "Open": must be one of Enabled, Disabled, SecuredByPerimeter');
    expect(message.split("\n")).toHaveLength(1 + 6);
  });

  it("is a Pulumi RunError, so `pulumi up` prints the list without a stack trace", async () => {
    const pulumi = await import("@pulumi/pulumi");
    expect(pulumi.RunError.isInstance(new StackConfigError([{ key: "k", value: 1, message: "m" }]))).toBe(true);
  });
});

describe("Pulumi.yaml and Pulumi.dev.yaml", () => {
  const root = path.join(__dirname, "..", "..");
  const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: string;
    config: Record<string, { type: string; default: unknown; description: string; items?: { type: string } }>;
  };

  it("declares a nodejs project with a typed setting, default and description for every config key", () => {
    expect(project.name).toBe("eventhubs-ai-workers");
    expect(project.runtime).toBe("nodejs");
    expect(Object.keys(project.config).sort()).toEqual(CONFIG_KEYS.filter((k) => k !== "location").sort());
    for (const [key, declaration] of Object.entries(project.config)) {
      const fallback = CONFIG_DEFAULTS[key as keyof typeof CONFIG_DEFAULTS];
      expect(declaration.default, key).toEqual(fallback);
      expect(declaration.description.length, key).toBeGreaterThan(20);
      const expectedType = Array.isArray(fallback) ? "array" : typeof fallback === "number" ? "integer" : typeof fallback;
      expect(declaration.type, key).toBe(expectedType);
      if (expectedType === "array") expect(declaration.items, key).toEqual({ type: "string" });
    }
  });

  it("has a dev stack config that sets the region and passes validation", () => {
    const dev = parse(readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    expect(dev.config["azure-native:location"]).toEqual(expect.any(String));
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(dev.config)) {
      if (key === "azure-native:location") raw.location = value;
      else raw[key.slice(`${project.name}:`.length)] = value;
    }
    expect(() => validateStackConfig(raw)).not.toThrow();
  });
});
