import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hashlittle2, partitionIndexForKey, partitionKeyHash } from "../../emulator/partition-key";

// Spec §4.6: key -> int16 hash -> partition index for N = 1, 2, 4, 8, 32 (from the SDK v6.0.4 mapper).
const VECTORS: [string, number, number[]][] = [
  ["", 0, [0, 0, 0, 0, 0]],
  ["a", -16220, [0, 0, 0, 4, 28]],
  ["abc", -14161, [0, 1, 1, 1, 17]],
  ["user-42", 1867, [0, 1, 3, 3, 11]],
  ["k", -32125, [0, 1, 1, 5, 29]],
  ["0123456789ab", -17054, [0, 0, 2, 6, 30]],
  ["0123456789abc", -4167, [0, 1, 3, 7, 7]],
  ["héllo", 17041, [0, 1, 1, 1, 17]],
];
const COUNTS = [1, 2, 4, 8, 32];

describe("partition key hashing (lookup3 hashlittle2)", () => {
  it.each(VECTORS)("key %j hashes to %i and the spec's partitions", (key, hash, partitions) => {
    expect(partitionKeyHash(key)).toBe(hash);
    expect(COUNTS.map((n) => partitionIndexForKey(key, n))).toEqual(partitions);
  });

  it("returns the initial state for an empty input and honours seeds", () => {
    expect(hashlittle2(new Uint8Array())).toEqual({ c: 0xdeadbeef, b: 0xdeadbeef });
    expect(hashlittle2(new Uint8Array(), 1, 0)).toEqual({ c: 0xdeadbef0, b: 0xdeadbef0 });
    expect(hashlittle2(Buffer.from("abc"), 0, 1)).not.toEqual(hashlittle2(Buffer.from("abc")));
  });

  it("agrees with the SDK's own client-side mapper on many keys of every length class", () => {
    // The SDK package blocks deep imports through "exports"; load the shipped file by its path.
    const sdkRoot = path.dirname(require.resolve("@azure/event-hubs/package.json"));
    const sdkRequire = createRequire(__filename);
    const { mapPartitionKeyToId } = sdkRequire(path.join(sdkRoot, "dist/commonjs/impl/partitionKeyToIdMapper.js")) as {
      mapPartitionKeyToId(key: string, count: number): number;
    };
    let seed = 12345;
    const nextRandom = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 400; i++) {
      const length = i % 40;
      const key = Array.from({ length }, () => String.fromCodePoint(32 + (nextRandom() % 400))).join("");
      const count = 1 + (nextRandom() % 32);
      expect(partitionIndexForKey(key, count), `key ${JSON.stringify(key)} N=${count}`).toBe(mapPartitionKeyToId(key, count));
    }
  });
});
