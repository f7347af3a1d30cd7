import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { gracefulStop, installShutdownHandlers } from "../../worker/shutdown";

const logger = pino({ level: "silent" });
let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

describe("shutdown", () => {
  it("exits 0 after a clean stop and 1 when the stop outlives the timeout", async () => {
    expect(await gracefulStop(async () => undefined, 1000, logger)).toBe(0);
    expect(await gracefulStop(() => sleep(500), 50, logger)).toBe(1);
  });

  it("stops once per signal burst and exits at once on a later second signal", async () => {
    const exits: number[] = [];
    let stops = 0;
    let finishStop: () => void = () => undefined;
    let clock = 1_000_000;
    uninstall = installShutdownHandlers({
      stop: () => {
        stops++;
        return new Promise<void>((resolve) => (finishStop = resolve));
      },
      timeoutMs: 10_000,
      logger,
      exit: (code) => exits.push(code),
      now: () => clock,
    });
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGINT", "SIGINT"); // the same Ctrl-C relayed by npm/tsx: not a second request
    expect(stops).toBe(1);
    expect(exits).toEqual([]);
    clock += 999;
    process.emit("SIGINT", "SIGINT"); // still the same burst
    expect(exits).toEqual([]);
    clock += 2;
    process.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([130]);
    finishStop();
    await vi.waitFor(() => expect(exits).toEqual([130, 0]), { timeout: 5000 });
  });
});
