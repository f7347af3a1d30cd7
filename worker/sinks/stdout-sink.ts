import { once } from "node:events";
import type { Writable } from "node:stream";
import { defineSink } from "../plugins";
import { serializeResultRecord, type ResultRecord, type Sink } from "./sink";

/**
 * One JSON line per record on stdout (logs go to stderr, so stdout stays data). A batch is one write; when
 * the stream's buffer is full (a slow pipe reader), the write waits for 'drain' instead of buffering more.
 */
export class StdoutSink implements Sink {
  constructor(private readonly stream: Writable = process.stdout) {}

  async write(records: ResultRecord[]): Promise<void> {
    if (records.length === 0) return;
    const chunk = records.map((record) => serializeResultRecord(record) + "\n").join("");
    const written = new Promise<void>((resolve, reject) => {
      this.stream.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
    if (this.stream.writableNeedDrain) await Promise.race([once(this.stream, "drain"), written]);
    await written;
  }

  async close(): Promise<void> {
    // stdout belongs to the process; nothing to release.
  }
}

/** SINK=stdout, the default: results on stdout, for a pipe or the container log. */
export const stdoutSink = defineSink({
  name: "stdout",
  settings: {},
  options: () => ({}),
  create: async () => new StdoutSink(),
});
