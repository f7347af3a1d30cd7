// A replica's record survives the trip through blob metadata, and a record this version cannot read is ignored.
import { describe, expect, it } from "vitest";
import { fromMetadata, recordPrefix, toMetadata, type FleetRecord } from "../../../worker/fleet/fleet-record";

const record: FleetRecord = {
  replica: "3f1c2a9e-0000-4000-8000-000000000001",
  writtenAt: 1_796_648_000_123,
  freshForMs: 5000,
  owned: ["0", "3"],
  wants: ["1"],
  deployments: {
    "gpt-4o-mini.ptu": { requestsPerSecond: 4.25, tokensPerSecond: 900.5, wanting: true, needRequestsPerSecond: 4.25, needTokensPerSecond: 900.5, acceptedPerSecond: 4, throttledPerSecond: 0, shareRequestsPerSecond: 4.75, shareTokensPerSecond: 950, quotaRequestsPerSecond: 10, quotaTokensPerSecond: 2000, circuit: "closed" },
    paygo: { requestsPerSecond: 0, tokensPerSecond: 0, wanting: false, needRequestsPerSecond: 0, needTokensPerSecond: 0, acceptedPerSecond: 0, throttledPerSecond: 1, circuit: "half-open" },
  },
};

describe("fleet record", () => {
  it("round-trips through blob metadata as ASCII", () => {
    const metadata = toMetadata(record);
    expect(Object.values(metadata).every((value) => /^[\x20-\x7e]*$/.test(value))).toBe(true);
    expect(fromMetadata(metadata)).toEqual(record);
  });

  it("ignores a record of another format or a damaged one", () => {
    const metadata = toMetadata(record);
    expect(fromMetadata({ ...metadata, format: "2" })).toBeUndefined();
    expect(fromMetadata({ ...metadata, deployments: '{"x":[1,2]}' })).toBeUndefined();
    expect(fromMetadata({ ...metadata, writtenat: "yesterday" })).toBeUndefined();
    expect(fromMetadata({ ...metadata, freshforms: "0" })).toBeUndefined();
    expect(fromMetadata(undefined)).toBeUndefined();
  });

  it("lives beside the checkpoint store's blobs, in lower case", () => {
    expect(recordPrefix("MyNs.servicebus.windows.net", "Events", "AI-Workers")).toBe("myns.servicebus.windows.net/events/ai-workers/fleet/");
  });
});
