// The faults the chaos harness injects, one at a time on a schedule, cycling through the chosen mix.
import type { ChaosStack } from "./chaos-stack";
import type { ChaosFleet } from "./fleet";

export const FAULT_KINDS = ["kill9", "sigterm", "detach", "drop", "azurite", "emulator"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  kill9: "kill -9 of a worker process, restarted a second later",
  sigterm: "SIGTERM of a worker (graceful drain), restarted once it exits",
  detach: "emulator force-detaches every consumer link (amqp:link:detach-forced)",
  drop: "emulator drops every client connection without an AMQP close",
  azurite: "Azurite (checkpoints, ownership, dead letters) stopped and restarted from disk",
  emulator: "kill -9 of the Event Hubs emulator, restarted on the same port and data directory",
};

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds since traffic started. */
  atSeconds: number;
  /** Something the fault acted on: links detached, connections dropped, processes signalled. */
  affected: number;
  detail: string;
}

export interface FaultContext {
  stack: ChaosStack;
  fleet: ChaosFleet;
  restartAfterMs: number;
  azuriteDownMs: number;
}

export class FaultInjector {
  readonly injected: FaultRecord[] = [];
  private nextSlot = 0;

  constructor(private readonly context: FaultContext) {}

  async inject(kind: FaultKind, atSeconds: number): Promise<FaultRecord> {
    const record = { kind, atSeconds, ...(await this.act(kind)) };
    this.injected.push(record);
    return record;
  }

  private slot(): number {
    const slot = this.nextSlot % this.context.fleet.size;
    this.nextSlot++;
    return slot;
  }

  private async act(kind: FaultKind): Promise<{ affected: number; detail: string }> {
    const { stack, fleet, restartAfterMs, azuriteDownMs } = this.context;
    switch (kind) {
      case "kill9": {
        const name = await fleet.crash(this.slot(), restartAfterMs);
        return { affected: 1, detail: `killed ${name}` };
      }
      case "sigterm": {
        const exit = await fleet.terminate(this.slot(), 20_000);
        return { affected: 1, detail: `stopped ${exit.name}: exit code ${exit.code}${exit.killed ? " (did not stop in time: killed)" : ""}` };
      }
      case "detach": {
        const links = await stack.emulator.detachReceivers();
        return { affected: links, detail: `${links} consumer links detached` };
      }
      case "drop": {
        const connections = await stack.emulator.dropConnections();
        return { affected: connections, detail: `${connections} connections dropped` };
      }
      case "azurite": {
        const started = performance.now();
        await stack.restartAzurite(azuriteDownMs);
        return { affected: 1, detail: `Azurite down for ${Math.round(performance.now() - started)} ms` };
      }
      case "emulator": {
        const started = performance.now();
        await stack.restartEmulator(restartAfterMs);
        return { affected: 1, detail: `emulator killed, listening again after ${Math.round(performance.now() - started)} ms` };
      }
    }
  }
}
