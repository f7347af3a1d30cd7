import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ResultRecord } from "../../../worker/sinks/sink";
import { StdoutSink } from "../../../worker/sinks/stdout-sink";
import { asWritten } from "../../support/result-records";

function record(sequenceNumber: number): ResultRecord {
  return {
    partitionId: "2", sequenceNumber, offset: String(sequenceNumber), enqueuedTimeUtc: "2024-03-12T09:00:00.000Z",
    processor: "text-insights", processedAt: "2024-03-12T09:00:01.000Z", resultJson: JSON.stringify({ padding: "x".repeat(200) }),
  };
}

/** A slow reader with a tiny buffer, like a pipe into a busy process. */
function slowStream() {
  const consumed: string[] = [];
  let drains = 0;
  const stream = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        consumed.push(chunk.toString("utf8"));
        callback();
      }, 10);
    },
  });
  stream.on("drain", () => drains++);
  return { stream, consumed, drains: () => drains };
}

describe("stdout sink", () => {
  it("writes one JSON line per record and resolves only once the slow reader has taken them", async () => {
    const { stream, consumed, drains } = slowStream();
    const sink = new StdoutSink(stream);
    await sink.write([record(1), record(2), record(3)]);
    await sink.write([record(4)]);
    expect(drains()).toBeGreaterThan(0); // the buffer filled: the write waited for 'drain'
    const lines = consumed.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line) as ResultRecord);
    expect(lines.map((r) => r.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(lines[0]).toEqual(asWritten(record(1)));
    await sink.close();
  });

  it("rejects when the stream fails", async () => {
    const broken = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error("EPIPE")) });
    broken.on("error", () => undefined);
    await expect(new StdoutSink(broken).write([record(1)])).rejects.toThrow("EPIPE");
  });
});
