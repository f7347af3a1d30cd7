// Partition-key hashing as the Event Hubs gateway does it: Bob Jenkins' lookup3 `hashlittle2` over the
// UTF-8 key with both seeds 0, folded to a signed 16-bit value (spec §4.6). All arithmetic is on
// unsigned 32-bit integers, so every step ends with `>>> 0`.

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

interface State {
  a: number;
  b: number;
  c: number;
}

function mix(s: State): void {
  s.a = (s.a - s.c) >>> 0; s.a = (s.a ^ rotl(s.c, 4)) >>> 0; s.c = (s.c + s.b) >>> 0;
  s.b = (s.b - s.a) >>> 0; s.b = (s.b ^ rotl(s.a, 6)) >>> 0; s.a = (s.a + s.c) >>> 0;
  s.c = (s.c - s.b) >>> 0; s.c = (s.c ^ rotl(s.b, 8)) >>> 0; s.b = (s.b + s.a) >>> 0;
  s.a = (s.a - s.c) >>> 0; s.a = (s.a ^ rotl(s.c, 16)) >>> 0; s.c = (s.c + s.b) >>> 0;
  s.b = (s.b - s.a) >>> 0; s.b = (s.b ^ rotl(s.a, 19)) >>> 0; s.a = (s.a + s.c) >>> 0;
  s.c = (s.c - s.b) >>> 0; s.c = (s.c ^ rotl(s.b, 4)) >>> 0; s.b = (s.b + s.a) >>> 0;
}

function final(s: State): void {
  s.c = (s.c ^ s.b) >>> 0; s.c = (s.c - rotl(s.b, 14)) >>> 0;
  s.a = (s.a ^ s.c) >>> 0; s.a = (s.a - rotl(s.c, 11)) >>> 0;
  s.b = (s.b ^ s.a) >>> 0; s.b = (s.b - rotl(s.a, 25)) >>> 0;
  s.c = (s.c ^ s.b) >>> 0; s.c = (s.c - rotl(s.b, 16)) >>> 0;
  s.a = (s.a ^ s.c) >>> 0; s.a = (s.a - rotl(s.c, 4)) >>> 0;
  s.b = (s.b ^ s.a) >>> 0; s.b = (s.b - rotl(s.a, 14)) >>> 0;
  s.c = (s.c ^ s.b) >>> 0; s.c = (s.c - rotl(s.b, 24)) >>> 0;
}

/** Little-endian 32-bit word of up to 4 bytes starting at `at` (missing bytes count as 0). */
function wordAt(bytes: Uint8Array, at: number, count: number): number {
  let word = 0;
  for (let i = 0; i < count; i++) word |= (bytes[at + i] ?? 0) << (8 * i);
  return word >>> 0;
}

/** lookup3 hashlittle2: returns the primary (c) and secondary (b) 32-bit hashes. */
export function hashlittle2(bytes: Uint8Array, primarySeed = 0, secondarySeed = 0): { c: number; b: number } {
  let length = bytes.length;
  const init = (0xdeadbeef + length + primarySeed) >>> 0;
  const s: State = { a: init, b: init, c: (init + secondarySeed) >>> 0 };
  let at = 0;
  while (length > 12) {
    s.a = (s.a + wordAt(bytes, at, 4)) >>> 0;
    s.b = (s.b + wordAt(bytes, at + 4, 4)) >>> 0;
    s.c = (s.c + wordAt(bytes, at + 8, 4)) >>> 0;
    mix(s);
    length -= 12;
    at += 12;
  }
  if (length === 0) return { c: s.c, b: s.b };
  // The last 1-12 bytes: each word takes what is left of its 4 bytes.
  s.a = (s.a + wordAt(bytes, at, Math.min(length, 4))) >>> 0;
  if (length > 4) s.b = (s.b + wordAt(bytes, at + 4, Math.min(length - 4, 4))) >>> 0;
  if (length > 8) s.c = (s.c + wordAt(bytes, at + 8, length - 8)) >>> 0;
  final(s);
  return { c: s.c, b: s.b };
}

/** The signed 16-bit hash the service derives from a partition key. */
export function partitionKeyHash(key: string): number {
  const { c, b } = hashlittle2(Buffer.from(key, "utf8"));
  const low16 = (c ^ b) & 0xffff;
  return low16 >= 0x8000 ? low16 - 0x10000 : low16;
}

/** Index into the partition ids "0".."N-1" that Azure assigns to events sent with this key. */
export function partitionIndexForKey(key: string, partitionCount: number): number {
  return Math.abs(partitionKeyHash(key) % partitionCount);
}
