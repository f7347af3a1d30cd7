// The few AMQP 1.0 type encodings the broker reads and writes by hand, so stored events can be
// forwarded from their raw bytes without a full decode/re-encode (which would also lose AMQP types).
// Reading: skip any value by its format code; read strings and symbols. Writing: symbols, strings,
// longs, timestamps and map32 into a caller-sized buffer.

const DESCRIBED = 0x00;

/** Error for bytes that are not valid AMQP encoding. */
export class AmqpDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AmqpDecodeError";
  }
}

function byteAt(buf: Buffer, pos: number): number {
  const value = buf[pos];
  if (value === undefined) throw new AmqpDecodeError(`unexpected end of data at byte ${pos}`);
  return value;
}

function checkedEnd(buf: Buffer, end: number): number {
  if (end > buf.length) throw new AmqpDecodeError(`value runs past the end of data (${end} > ${buf.length})`);
  return end;
}

/** Returns the position just after the encoded value starting at `pos` (descriptors included). */
export function skipValue(buf: Buffer, pos: number): number {
  const code = byteAt(buf, pos);
  if (code === DESCRIBED) return skipValue(buf, skipValue(buf, pos + 1));
  switch (code >> 4) {
    case 0x4: return pos + 1;
    case 0x5: return checkedEnd(buf, pos + 2);
    case 0x6: return checkedEnd(buf, pos + 3);
    case 0x7: return checkedEnd(buf, pos + 5);
    case 0x8: return checkedEnd(buf, pos + 9);
    case 0x9: return checkedEnd(buf, pos + 17);
    case 0xa: case 0xc: case 0xe: return checkedEnd(buf, pos + 2 + byteAt(buf, pos + 1));
    case 0xb: case 0xd: case 0xf:
      checkedEnd(buf, pos + 5);
      return checkedEnd(buf, pos + 5 + buf.readUInt32BE(pos + 1));
    default: throw new AmqpDecodeError(`unknown format code 0x${code.toString(16)} at byte ${pos}`);
  }
}

/** Where the payload of a variable-width value (binary, string, symbol) lies. */
export function variableWidthPayload(buf: Buffer, pos: number): { start: number; end: number } {
  const code = byteAt(buf, pos);
  if ((code >> 4) === 0xa) return { start: pos + 2, end: checkedEnd(buf, pos + 2 + byteAt(buf, pos + 1)) };
  if ((code >> 4) === 0xb) {
    checkedEnd(buf, pos + 5);
    return { start: pos + 5, end: checkedEnd(buf, pos + 5 + buf.readUInt32BE(pos + 1)) };
  }
  throw new AmqpDecodeError(`expected a binary, string or symbol at byte ${pos}, found format code 0x${code.toString(16)}`);
}

/** Reads a string or symbol value as text; undefined for any other type. */
export function readText(buf: Buffer, pos: number): string | undefined {
  const code = byteAt(buf, pos);
  if (code !== 0xa1 && code !== 0xb1 && code !== 0xa3 && code !== 0xb3) return undefined;
  const { start, end } = variableWidthPayload(buf, pos);
  return buf.toString("utf8", start, end);
}

/** One key/value pair of an encoded map, as byte ranges (the value is left undecoded). */
export interface RawMapEntry {
  key: string | undefined; // text of a string/symbol key; undefined for other key types
  start: number; // first byte of the key
  end: number; // byte after the value
}

/** Lists the entries of the map encoded at `pos` (map8, map32, or null for "no map"). */
export function readMapEntries(buf: Buffer, pos: number): RawMapEntry[] {
  const code = byteAt(buf, pos);
  if (code === 0x40) return [];
  let count: number;
  let cursor: number;
  let end: number;
  if (code === 0xc1) {
    end = checkedEnd(buf, pos + 2 + byteAt(buf, pos + 1));
    count = byteAt(buf, pos + 2);
    cursor = pos + 3;
  } else if (code === 0xd1) {
    checkedEnd(buf, pos + 9);
    end = checkedEnd(buf, pos + 5 + buf.readUInt32BE(pos + 1));
    count = buf.readUInt32BE(pos + 5);
    cursor = pos + 9;
  } else {
    throw new AmqpDecodeError(`expected a map at byte ${pos}, found format code 0x${code.toString(16)}`);
  }
  if (count % 2 !== 0) throw new AmqpDecodeError(`map at byte ${pos} has an odd element count ${count}`);
  const entries: RawMapEntry[] = [];
  for (let i = 0; i < count; i += 2) {
    const key = readText(buf, cursor);
    const valueStart = skipValue(buf, cursor);
    const valueEnd = skipValue(buf, valueStart);
    if (valueEnd > end) throw new AmqpDecodeError(`map entry at byte ${cursor} runs past the map`);
    entries.push({ key, start: cursor, end: valueEnd });
    cursor = valueEnd;
  }
  return entries;
}

/** Where the value of a map entry starts (just after its key). */
export function entryValueStart(buf: Buffer, entry: RawMapEntry): number {
  return skipValue(buf, entry.start);
}

// ---- writing ----

/** A value ready to be written: its exact size and a writer. */
export interface Encoded {
  readonly size: number;
  write(out: Buffer, pos: number): number; // returns the position after the value
}

function variableWidth(small: number, large: number, bytes: Buffer): Encoded {
  const isSmall = bytes.length <= 0xff;
  return {
    size: (isSmall ? 2 : 5) + bytes.length,
    write(out, pos) {
      if (isSmall) {
        out[pos] = small;
        out[pos + 1] = bytes.length;
        pos += 2;
      } else {
        out[pos] = large;
        out.writeUInt32BE(bytes.length, pos + 1);
        pos += 5;
      }
      return pos + bytes.copy(out, pos);
    },
  };
}

export const encodeSymbol = (text: string): Encoded => variableWidth(0xa3, 0xb3, Buffer.from(text, "ascii"));
export const encodeString = (text: string): Encoded => variableWidth(0xa1, 0xb1, Buffer.from(text, "utf8"));
export const encodeBinary = (bytes: Buffer): Encoded => variableWidth(0xa0, 0xb0, bytes);

function eightByte(code: number, value: number): Encoded {
  return {
    size: 9,
    write(out, pos) {
      out[pos] = code;
      // Safe integers only (sequence numbers, epoch milliseconds): split into two 32-bit halves.
      const high = Math.floor(value / 0x1_0000_0000);
      out.writeInt32BE(high, pos + 1);
      out.writeUInt32BE(value - high * 0x1_0000_0000, pos + 5);
      return pos + 9;
    },
  };
}

export const encodeLong = (value: number): Encoded => eightByte(0x81, value);
export const encodeTimestamp = (epochMs: number): Encoded => eightByte(0x83, epochMs);

/** Already-encoded bytes (e.g. a map entry copied from a stored event). */
export function encodeRaw(bytes: Buffer): Encoded {
  return { size: bytes.length, write: (out, pos) => pos + bytes.copy(out, pos) };
}

/** A map32 of already-encoded keys and values, laid out key, value, key, value. */
export function encodeMap(elements: Encoded[], elementCount: number): Encoded {
  const contentSize = elements.reduce((sum, e) => sum + e.size, 0);
  return {
    size: 9 + contentSize,
    write(out, pos) {
      out[pos] = 0xd1;
      out.writeUInt32BE(4 + contentSize, pos + 1);
      out.writeUInt32BE(elementCount, pos + 5);
      pos += 9;
      for (const element of elements) pos = element.write(out, pos);
      return pos;
    },
  };
}

/** A message section: `0x00 smallulong <descriptor>` followed by its value. */
export function encodeSection(descriptor: number, value: Encoded): Encoded {
  return {
    size: 3 + value.size,
    write(out, pos) {
      out[pos] = DESCRIBED;
      out[pos + 1] = 0x53;
      out[pos + 2] = descriptor;
      return value.write(out, pos + 3);
    },
  };
}
