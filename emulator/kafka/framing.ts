// Kafka framing: every request is a 4-byte big-endian size followed by that many bytes. The size is
// checked against the connection's current limit as soon as its 4 bytes are in, so a client claiming
// gigabytes is refused before anything is buffered; at most one frame (within the limit) is held.

/** The smallest request: api key, api version, correlation id and a null client id (v1 header). */
const MIN_REQUEST_BYTES = 10;
const SIZE_BYTES = 4;

export class FrameTooLargeError extends Error {
  constructor(readonly declared: number, readonly limit: number) {
    super(declared < MIN_REQUEST_BYTES
      ? `a request declares ${declared} bytes, less than a request header`
      : `a request declares ${declared} bytes, more than the ${limit} bytes allowed`);
    this.name = "FrameTooLargeError";
  }
}

export class RequestFrames {
  private readonly sizeField = Buffer.alloc(SIZE_BYTES);
  private sizeFieldLength = 0;
  private frame: Buffer | undefined;
  private frameLength = 0;

  /** `limit()` is asked per frame: a connection allows more once it has authenticated. */
  constructor(private readonly limit: () => number) {}

  /** Bytes held for the frame in progress. */
  get buffered(): number {
    return this.sizeFieldLength + this.frameLength;
  }

  /** Splits a chunk into whole frames (without their size field); throws FrameTooLargeError. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.frame) {
        const take = Math.min(SIZE_BYTES - this.sizeFieldLength, chunk.length - pos);
        chunk.copy(this.sizeField, this.sizeFieldLength, pos, pos + take);
        this.sizeFieldLength += take;
        pos += take;
        if (this.sizeFieldLength < SIZE_BYTES) break;
        const size = this.sizeField.readInt32BE(0);
        const limit = this.limit();
        if (size < MIN_REQUEST_BYTES || size > limit) throw new FrameTooLargeError(size, limit);
        this.sizeFieldLength = 0;
        this.frame = Buffer.allocUnsafe(size);
        this.frameLength = 0;
        continue;
      }
      const take = Math.min(this.frame.length - this.frameLength, chunk.length - pos);
      chunk.copy(this.frame, this.frameLength, pos, pos + take);
      this.frameLength += take;
      pos += take;
      if (this.frameLength === this.frame.length) {
        frames.push(this.frame);
        this.frame = undefined;
        this.frameLength = 0;
      }
    }
    return frames;
  }
}
