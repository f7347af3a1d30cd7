// Hubs and partitions as Listen rights see them: partition properties, a throughput estimate from how the last
// enqueued sequence number moves (sampled while the explorer runs), and the observed retention: the age of the
// oldest retained event. The retention setting itself is ARM-only; the data plane does not expose it.
import type { EventHubConsumerClient } from "@azure/event-hubs";
import type { EnqueuedTimes } from "./peek";

export interface PartitionView {
  id: string;
  isEmpty: boolean;
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: string;
  lastEnqueuedOnUtc: string | null;
  /** Events in the partition now (last - beginning + 1; 0 when empty). */
  retainedEvents: number;
  /** Enqueued time of the oldest retained event: the retention window as observed. */
  oldestRetainedOnUtc: string | null;
  /** Events per second over the last minute and the last five (or since the explorer started, if shorter). */
  eventsPerSecond: { last1m: number | null; last5m: number | null };
}

export interface HubView {
  name: string;
  createdOn: string;
  partitions: PartitionView[];
}

const HISTORY_MS = 6 * 60_000;

/** Samples of (time, last enqueued sequence number) per hub partition, for rates over a window. */
export class ThroughputSampler {
  private readonly samples = new Map<string, Array<[number, number]>>();

  record(key: string, lastSequenceNumber: number, now = Date.now()): void {
    const list = this.samples.get(key) ?? [];
    if (list.at(-1)?.[0] !== now) list.push([now, lastSequenceNumber]);
    while (list.length > 2 && (list[0]?.[0] ?? now) < now - HISTORY_MS) list.shift();
    this.samples.set(key, list);
  }

  /** Events per second over `windowMs`, from the oldest sample inside it; null until two samples exist. */
  rate(key: string, windowMs: number, now = Date.now()): number | null {
    const list = this.samples.get(key) ?? [];
    const latest = list.at(-1);
    const start = list.find(([at]) => at >= now - windowMs - 1000) ?? list[0];
    if (!latest || !start || latest[0] <= start[0]) return null;
    return Math.max(0, latest[1] - start[1]) / ((latest[0] - start[0]) / 1000);
  }
}

export async function readHub(client: EventHubConsumerClient, sampler: ThroughputSampler, enqueuedTimes: EnqueuedTimes): Promise<HubView> {
  const properties = await client.getEventHubProperties();
  const partitions = await Promise.all(
    properties.partitionIds.map(async (id): Promise<PartitionView> => {
      const p = await client.getPartitionProperties(id);
      const key = `${client.eventHubName}/${id}`;
      sampler.record(key, p.lastEnqueuedSequenceNumber);
      const oldest = p.isEmpty ? undefined : await enqueuedTimes.of(client.eventHubName, id, p.beginningSequenceNumber);
      return {
        id,
        isEmpty: p.isEmpty,
        beginningSequenceNumber: p.beginningSequenceNumber,
        lastEnqueuedSequenceNumber: p.lastEnqueuedSequenceNumber,
        lastEnqueuedOffset: String(p.lastEnqueuedOffset),
        lastEnqueuedOnUtc: p.isEmpty ? null : p.lastEnqueuedOnUtc.toISOString(),
        retainedEvents: p.isEmpty ? 0 : p.lastEnqueuedSequenceNumber - p.beginningSequenceNumber + 1,
        oldestRetainedOnUtc: oldest?.toISOString() ?? null,
        eventsPerSecond: { last1m: sampler.rate(key, 60_000), last5m: sampler.rate(key, 5 * 60_000) },
      };
    }),
  );
  return { name: properties.name, createdOn: properties.createdOn.toISOString(), partitions };
}
