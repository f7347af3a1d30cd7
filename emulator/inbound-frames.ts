// Checks the raw bytes a client sends, before rhea buffers them: every frame must fit the max frame
// size we advertise, so a header claiming gigabytes is refused at its first four bytes instead of
// being buffered until complete. Only sizes and protocol headers are read; nothing is kept or logged.
import { plural } from "../common/plural";

const PROTOCOL_HEADER = Buffer.from("AMQP", "latin1");
const HEADER_BYTES = 8;
const SIZE_BYTES = 4;
/** The smallest legal frame: the 8-byte frame header with an empty body (a heartbeat). */
const MIN_FRAME_BYTES = 8;

export class InboundFrames {
  private remaining = 0; // bytes of the current frame body still to pass
  private readonly pending = Buffer.alloc(HEADER_BYTES); // a size field or protocol header split across chunks
  private pendingLength = 0;

  constructor(private readonly maxFrameSize: number) {}

  /** Walks one chunk; returns what is wrong with it, or undefined when every frame so far is legal. */
  check(chunk: Buffer): string | undefined {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - pos);
        this.remaining -= skip;
        pos += skip;
        continue;
      }
      const wanted = this.isProtocolHeader() ? HEADER_BYTES : SIZE_BYTES;
      const take = Math.min(wanted - this.pendingLength, chunk.length - pos);
      chunk.copy(this.pending, this.pendingLength, pos, pos + take);
      this.pendingLength += take;
      pos += take;
      if (this.pendingLength < SIZE_BYTES) continue;
      // A protocol header ("AMQP" + id + version) starts the connection and follows SASL.
      if (this.isProtocolHeader()) {
        if (this.pendingLength === HEADER_BYTES) this.pendingLength = 0;
        continue;
      }
      const size = this.pending.readUInt32BE(0);
      this.pendingLength = 0;
      if (size < MIN_FRAME_BYTES) return `a frame declares ${plural(size, "byte")}, less than the 8-byte frame header`;
      if (size > this.maxFrameSize) return `a frame declares ${size} bytes, more than the max-frame-size of ${this.maxFrameSize} bytes the emulator advertised`;
      this.remaining = size - SIZE_BYTES;
    }
    return undefined;
  }

  private isProtocolHeader(): boolean {
    return this.pendingLength >= SIZE_BYTES && this.pending.subarray(0, SIZE_BYTES).equals(PROTOCOL_HEADER);
  }
}
