import { describe, expect, it } from "vitest";
import { plural } from "../../common/plural";

describe("plural", () => {
  it("uses the singular for exactly one and the plural otherwise, irregular plurals included", () => {
    expect(plural(1, "event")).toBe("1 event");
    expect(plural(0, "event")).toBe("0 events");
    expect(plural(2, "dead letter")).toBe("2 dead letters");
    expect(plural(1, "process lifetime")).toBe("1 process lifetime");
    expect(plural(3, "batch", "batches")).toBe("3 batches");
  });
});
