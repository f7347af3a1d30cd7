// The 40-second chaos scenario (room for each of the ten fault kinds at one every 3.5 s): three real worker processes, a stamped producer, and every fault kind
// injected at least once (kill -9, SIGTERM, link detach, dropped connections, Azurite restart, kill -9 of
// the emulator itself with a restart on its data directory, a deeply nested event, a deleted results blob,
// a processor call that never settles, a model outage) plus poison events. The harness's verdict must pass AND the faults must have hit something, so a harness
// that silently injected nothing could not pass.
import { describe, expect, it } from "vitest";
import { FAULT_KINDS } from "../../bench/chaos/faults";
import { runChaos } from "../../bench/chaos/harness";
import { renderChaosReport } from "../../bench/chaos/report";

describe("chaos: 40 s of faults", () => {
  it("loses, corrupts, reorders and mis-dead-letters nothing while every fault kind is injected", async () => {
    const outcome = await runChaos(
      {
        durationSeconds: 40,
        workers: 3,
        rate: 100,
        faults: [...FAULT_KINDS],
        faultIntervalSeconds: 3.5,
        poisonRatio: 0.03,
        seed: 11,
        drainTimeoutSeconds: 60,
        partitions: 4,
        restartAfterMs: 1000,
        azuriteDownMs: 1500,
        modelOutageMs: 3000,
      },
      () => undefined,
    );
    const report = renderChaosReport(outcome);
    expect(outcome.verdict.ok, `${report}\n${outcome.diagnostics ?? ""}`).toBe(true);
    expect(outcome.drained, report).toBe(true);
    expect(outcome.sent).toBe(4000);
    expect(outcome.poisonSent).toBeGreaterThan(0);
    expect(outcome.verdict.totals.deadLettered).toBe(outcome.poisonSent);
    expect(outcome.verdict.totals.processed).toBe(outcome.sent - outcome.poisonSent);
    for (const kind of FAULT_KINDS) {
      const injected = outcome.faults.filter((fault) => fault.kind === kind);
      expect(injected.length, `${kind} injected`).toBeGreaterThan(0);
      expect(injected.every((fault) => fault.affected > 0), `${kind} acted on something: ${JSON.stringify(injected)}`).toBe(true);
    }
    // Restarted workers are new processes.
    expect(outcome.workerInstances).toBeGreaterThan(3);
  }, 180_000);
});
