// Kafka wire primitives: a reader and a writer for the protocol's types. A `flexible` codec (the API
// versions that KIP-482 moved to compact forms) writes strings, bytes and arrays with unsigned-varint
// lengths (+1, 0 = null) and carries tagged fields; the rest use fixed-width lengths (-1 = null).
// Integers beyond 2^53 do not occur here (offsets are sequence numbers, ids are ours), so int64 is a number.

/** A request that does not decode: the connection that sent it is closed. */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KafkaDecodeError";
  }
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    readonly flexible = false,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** The same bytes read from here on with the other encoding (request headers end where the body's starts). */
  withFlexible(flexible: boolean): Reader {
    const reader = new Reader(this.buf, flexible);
    reader.pos = this.pos;
    return reader;
  }

  private take(bytes: number): number {
    const at = this.pos;
    if (bytes < 0 || at + bytes > this.buf.length) throw new KafkaDecodeError(`request ends early: ${bytes} bytes wanted at byte ${at} of ${this.buf.length}`);
    this.pos += bytes;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.take(8)));
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  uuid(): Buffer {
    return this.raw(16);
  }

  /** Unsigned LEB128, at most 5 bytes (32 bits). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buf.readUInt8(this.take(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new KafkaDecodeError("an unsigned varint is longer than 5 bytes");
  }

  /** Zig-zag varint (record fields): up to 64 bits, as a number. */
  varint(): number {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = BigInt(this.buf.readUInt8(this.take(1)));
      value |= (byte & 0x7fn) << shift;
      if ((byte & 0x80n) === 0n) return Number((value >> 1n) ^ -(value & 1n));
    }
    throw new KafkaDecodeError("a varint is longer than 10 bytes");
  }

  raw(length: number): Buffer {
    const at = this.take(length);
    return this.buf.subarray(at, at + length);
  }

  private length(): number {
    return this.flexible ? this.uvarint() - 1 : this.int16();
  }

  nullableString(): string | null {
    const length = this.length();
    if (length < 0) return null;
    return this.raw(length).toString("utf8");
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new KafkaDecodeError("a required string is null");
    return value;
  }

  nullableBytes(): Buffer | null {
    const length = this.flexible ? this.uvarint() - 1 : this.int32();
    return length < 0 ? null : this.raw(length);
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }

  nullableArray<T>(item: (reader: Reader) => T): T[] | null {
    const count = this.flexible ? this.uvarint() - 1 : this.int32();
    if (count < 0) return null;
    // Each element takes at least one byte: a count larger than what is left is a lie, not a reason to loop.
    if (count > this.remaining) throw new KafkaDecodeError(`an array claims ${count} elements with ${this.remaining} bytes left`);
    return Array.from({ length: count }, () => item(this));
  }

  array<T>(item: (reader: Reader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }

  /** Skips a struct's tagged fields (none of them change what we answer). */
  taggedFields(): void {
    if (!this.flexible) return;
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.raw(this.uvarint());
    }
  }
}

export class Writer {
  private chunks: Buffer[] = [];
  private current = Buffer.allocUnsafe(256);
  private used = 0;
  private flushed = 0;

  constructor(readonly flexible = false) {}

  get length(): number {
    return this.flushed + this.used;
  }

  private room(bytes: number): Buffer {
    if (this.used + bytes > this.current.length) {
      if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
      this.flushed += this.used;
      this.current = Buffer.allocUnsafe(Math.max(bytes, 4096));
      this.used = 0;
    }
    return this.current;
  }

  /** A fixed-width value written by `write` into the next `bytes` bytes. */
  private fixed(bytes: number, write: (buffer: Buffer, at: number) => unknown): this {
    write(this.room(bytes), this.used);
    this.used += bytes;
    return this;
  }

  int8(value: number): this {
    return this.fixed(1, (b, at) => b.writeInt8(value, at));
  }
  int16(value: number): this {
    return this.fixed(2, (b, at) => b.writeInt16BE(value, at));
  }
  int32(value: number): this {
    return this.fixed(4, (b, at) => b.writeInt32BE(value, at));
  }
  int64(value: number): this {
    return this.fixed(8, (b, at) => b.writeBigInt64BE(BigInt(value), at));
  }
  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  uvarint(value: number): this {
    let rest = value;
    while (rest >= 0x80) {
      this.int8Unsigned((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    return this.int8Unsigned(rest);
  }

  varint(value: number): this {
    let zigzag = (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
    while (zigzag >= 0x80n) {
      this.int8Unsigned(Number((zigzag & 0x7fn) | 0x80n));
      zigzag >>= 7n;
    }
    return this.int8Unsigned(Number(zigzag));
  }

  private int8Unsigned(value: number): this {
    return this.fixed(1, (b, at) => b.writeUInt8(value, at));
  }

  raw(bytes: Buffer): this {
    if (bytes.length > 1024) {
      // Large payloads (record batches) are referenced, not copied.
      if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
      this.flushed += this.used + bytes.length;
      this.chunks.push(bytes);
      this.current = this.current.subarray(this.used);
      this.used = 0;
      return this;
    }
    bytes.copy(this.room(bytes.length), this.used);
    this.used += bytes.length;
    return this;
  }

  private length_(length: number): this {
    return this.flexible ? this.uvarint(length + 1) : this.int16(length);
  }

  nullableString(value: string | null): this {
    if (value === null) return this.length_(-1);
    const bytes = Buffer.from(value, "utf8");
    return this.length_(bytes.length).raw(bytes);
  }

  string(value: string): this {
    return this.nullableString(value);
  }

  nullableBytes(value: Buffer | null): this {
    const length = value === null ? -1 : value.length;
    if (this.flexible) this.uvarint(length + 1);
    else this.int32(length);
    return value === null ? this : this.raw(value);
  }

  bytes(value: Buffer): this {
    return this.nullableBytes(value);
  }

  nullableArray<T>(items: readonly T[] | null, item: (writer: this, value: T) => void): this {
    const count = items === null ? -1 : items.length;
    if (this.flexible) this.uvarint(count + 1);
    else this.int32(count);
    for (const value of items ?? []) item(this, value);
    return this;
  }

  array<T>(items: readonly T[], item: (writer: this, value: T) => void): this {
    return this.nullableArray(items, item);
  }

  /** An empty tagged-field section (flexible versions only). */
  taggedFields(): this {
    return this.flexible ? this.uvarint(0) : this;
  }

  toBuffer(): Buffer {
    const parts = this.used > 0 ? [...this.chunks, this.current.subarray(0, this.used)] : this.chunks;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.length);
  }

  /** The pieces in order, for a socket write without one more copy. */
  pieces(): Buffer[] {
    return this.used > 0 ? [...this.chunks, this.current.subarray(0, this.used)] : [...this.chunks];
  }
}
