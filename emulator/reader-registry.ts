// Who reads which partition in which consumer group: the owner-level (epoch) rules and the
// five-readers quota of spec §5.3, applied per (hub, consumer group, partition).
import type { AmqpError } from "rhea";
import {
  MAX_READERS_PER_PARTITION,
  higherEpochExists,
  nonEpochNotAllowed,
  stolenByHigherEpoch,
  tooManyReaders,
} from "./service-errors";

export interface Reader {
  readonly name: string; // the client's com.microsoft:receiver-name, or 'nil'
  readonly epoch: number | undefined; // owner level; undefined for a non-epoch reader
  /** Events the client's link credit still allows this reader to be sent. */
  unusedCredit(): number;
  /** Detaches the reader's link with the given error (the registry has already forgotten it). */
  disconnect(error: AmqpError): void;
}

export type Admission = { ok: true } | { ok: false; error: AmqpError };

export class ReaderRegistry {
  private readonly groups = new Map<string, Set<Reader>>();

  private static key(hub: string, consumerGroup: string, partitionId: string): string {
    return `${hub.toLowerCase()}\n${consumerGroup.toLowerCase()}\n${partitionId}`;
  }

  /**
   * Admits `reader` to a partition of a consumer group, or says why not. A reader whose epoch is at
   * least the highest present takes over: every current reader (epoch or not) is disconnected with
   * amqp:link:stolen. Lower epochs, and non-epoch readers while an epoch reader exists, are refused.
   */
  admit(hub: string, consumerGroup: string, partitionId: string, reader: Reader): Admission {
    const key = ReaderRegistry.key(hub, consumerGroup, partitionId);
    const readers = this.groups.get(key) ?? new Set<Reader>();
    const epochReaders = [...readers].filter((r) => r.epoch !== undefined);
    const highest = epochReaders.reduce<Reader | undefined>((top, r) => (top && (top.epoch ?? 0) >= (r.epoch ?? 0) ? top : r), undefined);

    if (reader.epoch !== undefined) {
      if (highest && reader.epoch < (highest.epoch ?? 0)) {
        return { ok: false, error: higherEpochExists(highest.name, highest.epoch ?? 0, reader.name, reader.epoch) };
      }
      if (readers.size > 0) {
        this.groups.delete(key);
        for (const old of readers) old.disconnect(stolenByHigherEpoch(reader.name, reader.epoch, old.name, old.epoch));
      }
      this.groups.set(key, new Set([reader]));
      return { ok: true };
    }

    if (highest) return { ok: false, error: nonEpochNotAllowed(highest.epoch ?? 0) };
    if (readers.size >= MAX_READERS_PER_PARTITION) {
      return { ok: false, error: tooManyReaders([...readers].map((r) => r.name)) };
    }
    readers.add(reader);
    this.groups.set(key, readers);
    return { ok: true };
  }

  /** Forgets a reader whose link ended; a no-op if it was already removed. */
  remove(hub: string, consumerGroup: string, partitionId: string, reader: Reader): void {
    const key = ReaderRegistry.key(hub, consumerGroup, partitionId);
    const readers = this.groups.get(key);
    if (!readers) return;
    readers.delete(reader);
    if (readers.size === 0) this.groups.delete(key);
  }

  /** Every reader currently admitted, for forced detaches. */
  all(): Reader[] {
    return [...this.groups.values()].flatMap((readers) => [...readers]);
  }
}
