// Fault injection for tests (spec §10.10). Each fault reproduces a service behaviour the SDK must cope
// with; see the fault table in docs/local-event-hubs.md for the SDK reaction each one produces.
import type { AmqpError } from "rhea";
import { CONDITION } from "./service-errors";

/** What the broker does for the faults that act on live connections and links. */
export interface FaultTargets {
  detachReceivers(error: AmqpError): number;
  dropConnections(): number;
}

const INJECTED = "(injected by the emulator's fault injection)";

export class Faults {
  private rejections: { condition: string; remaining: number }[] = [];
  private managementDelay = 0;

  constructor(private readonly targets: FaultTargets) {}

  /**
   * Rejects the next `count` incoming sends (whole batches) with `condition`, e.g.
   * com.microsoft:server-busy (retryable: the SDK retries and succeeds) or
   * amqp:link:message-size-exceeded (not retryable).
   */
  rejectNextSends(count: number, condition: string = CONDITION.serverBusy): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`rejectNextSends: count must be a whole number >= 0, got ${count}`);
    if (count > 0) this.rejections.push({ condition, remaining: count });
  }

  /** Detaches every consumer link with `condition` (default amqp:link:detach-forced); returns how many. */
  detachReceivers(condition: string = CONDITION.detachForced): number {
    return this.targets.detachReceivers({ condition, description: `The link was detached ${INJECTED}.` });
  }

  /** Drops every client socket without an AMQP close, like a network failure; returns how many. */
  dropConnections(): number {
    return this.targets.dropConnections();
  }

  /** Delays every `$management` reply by `ms` from now on (0 turns it off). */
  delayManagement(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delayManagement: ms must be >= 0, got ${ms}`);
    this.managementDelay = ms;
  }

  get managementDelayMs(): number {
    return this.managementDelay;
  }

  /** The error for the next incoming send if one is due to be rejected (consumes it). */
  takeSendRejection(): AmqpError | undefined {
    const next = this.rejections[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining === 0) this.rejections.shift();
    return { condition: next.condition, description: `The send was rejected with ${next.condition} ${INJECTED}.` };
  }
}
