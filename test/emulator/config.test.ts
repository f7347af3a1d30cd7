import { describe, expect, it } from "vitest";
import { ConfigError, parseEmulatorConfig } from "../../emulator/config";

function problemsOf(input: unknown): string[] {
  try {
    parseEmulatorConfig(input, "test.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message).toContain("test.json");
    return configError.problems;
  }
  throw new Error("expected a ConfigError");
}

const microsoftConfig = (entities: unknown[], extra: Record<string, unknown> = {}) => ({
  UserConfig: {
    NamespaceConfig: [{ Type: "EventHub", Name: "emulatorNs1", Entities: entities }],
    LoggingConfig: { Type: "File" },
    ...extra,
  },
});

describe("parseEmulatorConfig: defaults and our shape", () => {
  it("fills every default for an empty input", () => {
    expect(parseEmulatorConfig(undefined, "defaults")).toEqual({
      namespace: "emulatorns1",
      hubs: [{ name: "events", partitionCount: 4, consumerGroups: ["ai-workers"] }],
      keys: [{ name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" }],
      checkSignatures: true,
      retentionHours: 24,
      maxMemoryBytes: 512 * 1024 * 1024,
      maxMessageBytes: 1048576,
    });
  });

  it("keeps given values, defaults per hub, drops an explicit $Default group and keeps dataDir", () => {
    const config = parseEmulatorConfig(
      {
        namespace: "myspace1",
        hubs: [{ name: "orders.v1", partitionCount: 32, consumerGroups: ["$default", "billing_1"] }, { name: "audit-log" }],
        keys: [{ name: "send", key: "k1" }],
        checkSignatures: false,
        retentionHours: 0.5,
        maxMemoryBytes: 1000,
        maxMessageBytes: 2048,
        dataDir: "/tmp/x",
      },
      "inline",
    );
    expect(config.hubs).toEqual([
      { name: "orders.v1", partitionCount: 32, consumerGroups: ["billing_1"] },
      { name: "audit-log", partitionCount: 4, consumerGroups: [] },
    ]);
    expect(config).toMatchObject({ namespace: "myspace1", checkSignatures: false, retentionHours: 0.5, maxMemoryBytes: 1000, maxMessageBytes: 2048, dataDir: "/tmp/x" });
  });

  it("re-parses its own output unchanged (so callers can layer overrides)", () => {
    const config = parseEmulatorConfig({ hubs: [{ name: "a", partitionCount: 2 }], dataDir: "d" }, "first");
    expect(parseEmulatorConfig({ ...config }, "second")).toEqual(config);
  });

  it("reports every problem at once with path, bad value and what is allowed", () => {
    const problems = problemsOf({
      namespace: "x",
      hubs: [
        { name: "bad name", partitionCount: 0, consumerGroups: ["g1", "G1", "ok"] },
        { name: "BAD NAME", partitionCount: 33 },
        { name: "fine", partitionCount: 2.5, extra: true },
      ],
      keys: [{ name: "", key: "k" }],
      checkSignatures: "yes",
      retentionHours: 0,
      maxMemoryBytes: -5,
      maxMessageBytes: 2_000_000,
      dataDir: "",
      typo: 1,
    });
    const expectations: [string, string, string][] = [
      ["namespace:", "6-50 letters", '"x"'],
      ["hubs[0].name:", "1-50 characters of letters, digits", '"bad name"'],
      ["hubs[0].partitionCount:", "from 1 to 32", "0"],
      ["hubs[0].consumerGroups[1]:", "duplicate consumer group name, first defined at index 0", '"G1"'],
      ["hubs[1].partitionCount:", "from 1 to 32", "33"],
      ["hubs[1].name:", "duplicate event hub name", '"BAD NAME"'],
      ["hubs[2].partitionCount:", "whole number", "2.5"],
      ["hubs[2]:", "unknown key(s) 'extra'", ""],
      ["keys[0].name:", "must not be empty", '""'],
      ["checkSignatures:", "true or false", '"yes"'],
      ["retentionHours:", "greater than 0", "0"],
      ["maxMemoryBytes:", "greater than 0", "-5"],
      ["maxMessageBytes:", "from 1 to 1048576", "2000000"],
      ["dataDir:", "non-empty", '""'],
      ["(root):", "unknown key(s) 'typo'", ""],
    ];
    for (const [path, rule, value] of expectations) {
      const match = problems.find((p) => p.startsWith(path) && p.includes(rule));
      expect(match, `${path} ${rule} in\n${problems.join("\n")}`).toBeDefined();
      if (value) expect(match).toContain(`(got ${value})`);
    }
  });

  it("limits hubs to 10 and consumer groups to 20 per hub", () => {
    const hubs = Array.from({ length: 11 }, (_, i) => ({ name: `hub${i}` }));
    expect(problemsOf({ hubs })[0]).toMatch(/^hubs: must define 1 to 10 event hubs/);
    expect(problemsOf({ hubs: [] })[0]).toMatch(/^hubs: must define 1 to 10/);
    const consumerGroups = Array.from({ length: 21 }, (_, i) => `cg${i}`);
    expect(problemsOf({ hubs: [{ name: "h", consumerGroups }] })[0]).toMatch(/^hubs\[0\]\.consumerGroups: must list at most 20/);
    expect(parseEmulatorConfig({ hubs: [{ name: "h", consumerGroups: consumerGroups.slice(0, 20) }] }, "t").hubs[0]?.consumerGroups).toHaveLength(20);
  });

  it("accepts names at the edge of the rules and rejects just past them", () => {
    expect(parseEmulatorConfig({ hubs: [{ name: "a".repeat(50) }] }, "t").hubs[0]?.name).toHaveLength(50);
    expect(problemsOf({ hubs: [{ name: "a".repeat(51) }] })[0]).toMatch(/^hubs\[0\]\.name:/);
    expect(problemsOf({ hubs: [{ name: "" }] })[0]).toMatch(/^hubs\[0\]\.name:/);
    expect(problemsOf({ hubs: [{ name: "é" }] })[0]).toMatch(/^hubs\[0\]\.name:/);
    for (const name of [".", "..", "-x", "x_"]) expect(problemsOf({ hubs: [{ name }] })[0]).toMatch(/^hubs\[0\]\.name: must be .* starting and ending with a letter or digit/);
    expect(parseEmulatorConfig({ hubs: [{ name: "a.b-c_d", consumerGroups: ["x", "y.z"] }] }, "t").hubs[0]?.name).toBe("a.b-c_d");
    expect(problemsOf({ hubs: [{ partitionCount: 1 }] })[0]).toBe("hubs[0].name: must be a string of 1-50 characters of letters, digits, '.', '-' or '_', starting and ending with a letter or digit (missing)");
  });

  it("rejects non-objects clearly", () => {
    expect(problemsOf("hello")).toEqual(['(root): must be a JSON object (got "hello")']);
    expect(problemsOf([1])[0]).toMatch(/must be a JSON object/);
    expect(problemsOf({ hubs: "events" })).toEqual(['hubs: must be an array (got "events")']);
  });
});

describe("parseEmulatorConfig: Microsoft's Config.json shape", () => {
  it("maps namespace, entities, string or number partition counts and consumer groups", () => {
    const config = parseEmulatorConfig(
      microsoftConfig([
        { Name: "eh1", PartitionCount: "2", ConsumerGroups: [{ Name: "cg1" }] },
        { Name: "eh2", PartitionCount: 8, ConsumerGroups: [{ Name: "$Default" }, { Name: "cg2" }, { Name: "cg3" }] },
        { Name: "eh3", PartitionCount: "1" },
      ]),
      "Config.json",
    );
    expect(config.namespace).toBe("emulatorNs1");
    expect(config.hubs).toEqual([
      { name: "eh1", partitionCount: 2, consumerGroups: ["cg1"] },
      { name: "eh2", partitionCount: 8, consumerGroups: ["cg2", "cg3"] },
      { name: "eh3", partitionCount: 1, consumerGroups: [] },
    ]);
    expect(config.keys).toEqual([{ name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" }]);
  });

  it("reports every problem with Microsoft's paths", () => {
    const problems = problemsOf(
      microsoftConfig(
        [
          { Name: "eh1", PartitionCount: "two", ConsumerGroups: [{ Name: "cg 1" }, {}, { Name: "cg2" }, { Name: "CG2" }] },
          { Name: "EH1", PartitionCount: "64" },
          { PartitionCount: "2" },
        ],
        { LoggingConfig: { Type: "Syslog" } },
      ),
    );
    const expected = [
      'UserConfig.NamespaceConfig[0].Entities[0].PartitionCount: must be a whole number from 1 to 32 (number or numeric string) (got "two")',
      'UserConfig.NamespaceConfig[0].Entities[0].ConsumerGroups[0].Name: must be 1-50 characters of letters, digits, \'.\', \'-\' or \'_\', starting and ending with a letter or digit (got "cg 1")',
      "UserConfig.NamespaceConfig[0].Entities[0].ConsumerGroups[1].Name: must be 1-50 characters of letters, digits, '.', '-' or '_', starting and ending with a letter or digit (missing)",
      'UserConfig.NamespaceConfig[0].Entities[0].ConsumerGroups[3].Name: duplicate consumer group name, first defined at index 2 (names are case-insensitive and must be unique) (got "CG2")',
      "UserConfig.NamespaceConfig[0].Entities[1].PartitionCount: must be a whole number from 1 to 32 (got 64)",
      'UserConfig.NamespaceConfig[0].Entities[1].Name: duplicate event hub name, first defined at index 0 (names are case-insensitive and must be unique) (got "EH1")',
      "UserConfig.NamespaceConfig[0].Entities[2].Name: must be a string of 1-50 characters of letters, digits, '.', '-' or '_', starting and ending with a letter or digit (missing)",
      'UserConfig.LoggingConfig.Type: must be one of "File", "Console", "File,Console", "Console,File" (got "Syslog")',
    ];
    for (const line of expected) expect(problems, problems.join("\n")).toContain(line);
    expect(problems).toHaveLength(expected.length);
  });

  it("requires exactly one namespace of type EventHub", () => {
    const two = { UserConfig: { NamespaceConfig: [1, 2].map(() => ({ Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "e", PartitionCount: "1" }] })) } };
    expect(problemsOf(two)[0]).toMatch(/^UserConfig\.NamespaceConfig: must contain exactly one namespace/);
    const wrongType = { UserConfig: { NamespaceConfig: [{ Type: "ServiceBus", Name: "emulatorNs1", Entities: [{ Name: "e", PartitionCount: "1" }] }] } };
    expect(problemsOf(wrongType)).toEqual(['UserConfig.NamespaceConfig[0].Type: must be "EventHub" (got "ServiceBus")']);
    expect(problemsOf({ UserConfig: {} })).toEqual(["UserConfig.NamespaceConfig: must be an array with exactly one namespace (missing)"]);
  });
});
