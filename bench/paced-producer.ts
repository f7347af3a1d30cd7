// Sends events at a fixed offered rate (events/s), in 10 ms ticks: each tick sends what is due by then,
// one batch per partition, so the offered load stays steady rather than arriving in bursts.
import { setTimeout as sleep } from "node:timers/promises";
import type { EventHubProducerClient } from "@azure/event-hubs";
import { toEventData, type BenchEvent } from "./workload";

const TICK_MS = 10;

export interface PacedSend {
  sent: number;
  seconds: number;
  /** Ticks whose sends finished after the next tick was due (the producer fell behind the schedule). */
  lateTicks: number;
}

export async function sendAtRate(producer: EventHubProducerClient, events: readonly BenchEvent[], ratePerSecond: number): Promise<PacedSend> {
  const started = performance.now();
  let sent = 0;
  let lateTicks = 0;
  while (sent < events.length) {
    const elapsed = performance.now() - started;
    const due = Math.min(events.length, Math.floor((ratePerSecond * elapsed) / 1000));
    if (due > sent) {
      const byPartition = new Map<string, BenchEvent[]>();
      for (const event of events.slice(sent, due)) {
        const list = byPartition.get(event.partitionId) ?? [];
        list.push(event);
        byPartition.set(event.partitionId, list);
      }
      await Promise.all([...byPartition].map(([partitionId, list]) => producer.sendBatch(list.map(toEventData), { partitionId })));
      sent = due;
    }
    const nextTickAt = started + (Math.floor(elapsed / TICK_MS) + 1) * TICK_MS;
    const wait = nextTickAt - performance.now();
    if (wait > 0) await sleep(wait);
    else lateTicks++;
  }
  return { sent, seconds: (performance.now() - started) / 1000, lateTicks };
}
