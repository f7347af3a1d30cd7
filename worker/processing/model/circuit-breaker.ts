// One deployment's circuit breaker, shaped for routing: the router asks each deployment when it may send next
// instead of trying and catching a refusal, so an open deployment gets no request while another has room.
// Closed: requests flow; CONSECUTIVE_FAILURES outage failures in a row open it. Open: nothing is sent until the
// break (1 s, doubling to 30 s with each failed probe) is over. Half-open: exactly one request, the probe, is
// sent; its success closes the circuit, its failure opens it again for a longer break.

export type CircuitStateName = "closed" | "open" | "half-open";

/** Outage failures in a row (5xx, timeouts, connection errors, 401/403/404) that open the circuit. */
export const CONSECUTIVE_FAILURES = 5;
const FIRST_BREAK_MS = 1000;
const MAX_BREAK_MS = 30_000;

export class CircuitBreaker {
  private state: CircuitStateName = "closed";
  private failures = 0;
  private openedAt = 0;
  private breakMs = FIRST_BREAK_MS;
  private probing = false;
  private readonly listeners = new Set<(state: CircuitStateName, cause: unknown) => void>();

  constructor(private readonly now: () => number) {}

  /** The state as a reader sees it: an open circuit whose break is over reads half-open (a probe may go). */
  get current(): CircuitStateName {
    return this.state === "open" && this.now() - this.openedAt >= this.breakMs ? "half-open" : this.state;
  }

  /** 0: a request may be sent now; a wait in ms until a probe may go; Infinity while a probe is on its way. */
  waitMs(): number {
    if (this.state === "closed") return 0;
    if (this.probing) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.openedAt + this.breakMs - this.now());
  }

  /** A request is being sent (only when waitMs() is 0): outside the closed state it is the probe. */
  sending(): void {
    if (this.state === "closed") return;
    this.probing = true;
    this.change("half-open", undefined);
  }

  succeeded(): void {
    this.failures = 0;
    this.probing = false;
    this.breakMs = FIRST_BREAK_MS;
    if (this.state !== "closed") this.change("closed", undefined);
  }

  /**
   * An outage failure. A failed probe opens the circuit for twice as long; a request sent before the circuit
   * opened and failing after it changes nothing.
   */
  failed(cause: unknown): void {
    if (this.state === "closed") {
      if (++this.failures < CONSECUTIVE_FAILURES) return;
    } else if (this.state === "half-open") {
      this.breakMs = Math.min(MAX_BREAK_MS, this.breakMs * 2);
    } else {
      return;
    }
    this.probing = false;
    this.openedAt = this.now();
    this.change("open", cause);
  }

  /** A request was admitted but never answered by the service (aborted, or it settled as not an outage). */
  released(): void {
    this.probing = false;
  }

  onChange(listener: (state: CircuitStateName, cause: unknown) => void): void {
    this.listeners.add(listener);
  }

  private change(state: CircuitStateName, cause: unknown): void {
    const before = this.state;
    this.state = state;
    if (before !== state || state === "open") for (const listener of this.listeners) listener(state, cause);
  }
}
