import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Closers } from "../../worker/closers";

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string; step?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

describe("Closers", () => {
  it("closes the last started first, goes on past a failing step, logs each, and empties the stack", async () => {
    const { logger, lines } = recordingLogger();
    const closed: string[] = [];
    const closers = new Closers(logger);
    closers.push("close sink", async () => void closed.push("sink"));
    closers.push("close processor", async () => {
      throw new Error("pool already gone");
    });
    closers.push("close client", async () => void closed.push("client"));
    await closers.closeAll();
    expect(closed).toEqual(["client", "sink"]);
    expect(lines.map((l) => [l.step, l.msg])).toEqual([
      ["close client", "shutdown: close client done"],
      ["close processor", "shutdown: close processor failed"],
      ["close sink", "shutdown: close sink done"],
    ]);
    await closers.closeAll();
    expect(closed).toEqual(["client", "sink"]);
  });
});
