// The faults the chaos harness injects, one at a time on a schedule, cycling through the chosen mix.
import type { ChaosStack } from "./chaos-stack";
import type { ChaosFleet } from "./fleet";
import type { FakeModelServer } from "../fake-model-server";
import type { BlobResults } from "./blob-results";
import { HOSTILE_DEPTH, type StampedEvents } from "./stamped-events";

export const FAULT_KINDS = ["kill9", "sigterm", "detach", "drop", "azurite", "emulator", "hostile", "blobdelete", "hung", "model"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Record<FaultKind, string> = {
  kill9: "kill -9 of a worker process, restarted a second later",
  sigterm: "SIGTERM of a worker (graceful drain), restarted once it exits",
  detach: "emulator force-detaches every consumer link (amqp:link:detach-forced)",
  drop: "emulator drops every client connection without an AMQP close",
  azurite: "Azurite (checkpoints, ownership, dead letters) stopped and restarted from disk",
  emulator: "kill -9 of the Event Hubs emulator, restarted on the same port and data directory",
  blobdelete: "the results blob written to most recently is deleted (read to its end first, under a lease); the sink must create it again",
  hostile: `the next event nests its text ${HOSTILE_DEPTH} levels deep (poison: must be dead-lettered, its partition must move on)`,
  hung: "the processor never settles on the next event (its time limit must end it: dead-lettered, its partition must move on)",
  model: "the model the processor calls answers 503 for a while (transient: its events must wait, none dead-lettered)",
};

export interface FaultRecord {
  kind: FaultKind;
  /** Seconds since traffic started. */
  atSeconds: number;
  /** When it was injected (ms since the epoch), to tell which results came after it. */
  atEpochMs: number;
  /** Something the fault acted on: links detached, connections dropped, processes signalled. */
  affected: number;
  detail: string;
  /** The worker process (one lifetime) a kill -9 or SIGTERM ended. */
  instance?: string;
}

export interface FaultContext {
  stack: ChaosStack;
  fleet: ChaosFleet;
  events: StampedEvents;
  results: BlobResults;
  restartAfterMs: number;
  azuriteDownMs: number;
  model: FakeModelServer;
  modelOutageMs: number;
}

export class FaultInjector {
  readonly injected: FaultRecord[] = [];
  private nextSlot = 0;

  constructor(private readonly context: FaultContext) {}

  async inject(kind: FaultKind, atSeconds: number): Promise<FaultRecord> {
    const atEpochMs = Date.now();
    const record = { kind, atSeconds, atEpochMs, ...(await this.act(kind)) };
    this.injected.push(record);
    return record;
  }

  private slot(): number {
    const slot = this.nextSlot % this.context.fleet.size;
    this.nextSlot++;
    return slot;
  }

  private async act(kind: FaultKind): Promise<{ affected: number; detail: string; instance?: string }> {
    const { stack, fleet, restartAfterMs, azuriteDownMs } = this.context;
    switch (kind) {
      case "kill9": {
        const name = await fleet.crash(this.slot(), restartAfterMs);
        return { affected: 1, detail: `killed ${name}`, instance: name };
      }
      case "sigterm": {
        const exit = await fleet.terminate(this.slot(), 20_000);
        return { affected: 1, detail: `stopped ${exit.name}: exit code ${exit.code}${exit.killed ? " (did not stop in time: killed)" : ""}`, instance: exit.name };
      }
      case "detach": {
        const links = await stack.emulator.detachReceivers();
        return { affected: links, detail: `${links} consumer links detached` };
      }
      case "drop": {
        const connections = await stack.emulator.dropConnections();
        return { affected: connections, detail: `${connections} connections dropped` };
      }
      case "blobdelete":
        return deleteLatestResultsBlob(this.context.results);
      case "hung":
        this.context.events.hangNext = true;
        return { affected: 1, detail: "the processor never settles on the next event" };
      case "model":
        this.context.model.outage(this.context.modelOutageMs);
        return { affected: 1, detail: `the model answers 503 for ${this.context.modelOutageMs} ms` };
      case "hostile": {
        this.context.events.hostileNext = true;
        return { affected: 1, detail: `the next event nests ${HOSTILE_DEPTH} levels deep` };
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

/**
 * Deletes the results blob appended to most recently, as a person or a storage fault might. A lease stops
 * appends while the harness reads the blob to its end, so no result the workers wrote is lost from view;
 * after the delete, their next append finds no blob and must create it again.
 */
async function deleteLatestResultsBlob(results: BlobResults): Promise<{ affected: number; detail: string }> {
  const container = results.container;
  let latest: { name: string; modified: number } | undefined;
  for await (const blob of container.listBlobsFlat()) {
    const modified = blob.properties.lastModified.getTime();
    if (!latest || modified > latest.modified) latest = { name: blob.name, modified };
  }
  if (!latest) return { affected: 0, detail: "no results blob yet" };
  const lease = container.getBlobClient(latest.name).getBlobLeaseClient();
  const { leaseId } = await lease.acquireLease(60);
  if (!leaseId) throw new Error(`no lease id for ${latest.name}`);
  await results.readNew(latest.name, leaseId);
  await container.getBlobClient(latest.name).delete({ conditions: { leaseId } });
  results.forget(latest.name);
  return { affected: 1, detail: `deleted ${latest.name}` };
}
