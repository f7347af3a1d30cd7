// The shared naming rules, and that the stack's, the worker's and the emulator's validations all apply them.
import { describe, expect, it } from "vitest";
import { checkpointContainerName, CONTAINER_NAME, isConsumerGroupName, isEntityName } from "../../common/names";
import { parseEmulatorConfig } from "../../emulator";
import { parseConfig } from "../../worker/config";

const WORKER_ENV = {
  EVENTHUB_CONNECTION_STRING: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

describe("entity names", () => {
  it("allow 1-50 letters, digits, '.', '-' and '_', starting and ending with a letter or digit", () => {
    for (const good of ["e", "events", "Events.v2", "a-b_c.d", "x".repeat(50)]) expect(isEntityName(good), good).toBe(true);
    for (const bad of ["", "events-", "events_", "events.", "-events", "my events", "x".repeat(51)]) expect(isEntityName(bad), bad).toBe(false);
  });

  it("are checked alike by the worker and the emulator: a trailing '-' is refused by both", () => {
    const worker = parseConfig([], { ...WORKER_ENV, EVENTHUB_NAME: "events-" });
    expect(worker.kind === "invalid" && worker.problems).toEqual([
      `EVENTHUB_NAME (--eventhub-name) = "events-": allowed: 1-50 characters of letters, digits, '.', '-' or '_', starting and ending with a letter or digit`,
    ]);
    expect(() => parseEmulatorConfig({ hubs: [{ name: "events-" }] }, "test")).toThrow(/starting and ending with a letter or digit/);
  });

  it("let $Default through as a consumer group in any case, and nothing else outside the rule", () => {
    expect(isConsumerGroupName("$Default")).toBe(true);
    expect(isConsumerGroupName("$default")).toBe(true);
    expect(isConsumerGroupName("$Other")).toBe(false);
  });
});

describe("checkpoint container names", () => {
  it("derive a valid container name from any consumer group", () => {
    expect(checkpointContainerName("ai-workers")).toBe("checkpoints-ai-workers");
    expect(checkpointContainerName("$Default")).toBe("checkpoints-default");
    expect(checkpointContainerName("Team_A..B")).toBe("checkpoints-team-a-b");
    const longest = checkpointContainerName(`${"a".repeat(38)}.${"b".repeat(11)}`);
    expect(longest).toMatch(CONTAINER_NAME);
    expect(longest.length).toBeLessThanOrEqual(63);
  });
});
