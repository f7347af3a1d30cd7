// One per worker process, shared by every partition: decides when the next model request may go out, so the
// process fills its share of the model's quota without storms of 429s.
//
// Four gates, all of which a request must pass:
// - pause: after a 429 nothing is sent before the time the service gave (retry-after-ms / retry-after);
// - concurrency: an adaptive limit on requests in flight. It grows while there is work waiting and latency
//   is not inflated (a local server that queues shows its saturation as latency), and shrinks when latency
//   doubles over its baseline;
// - pace: a request rate and a token rate, each learned from the service's own 429s: unknown (unlimited)
//   until the first 429 of that kind, then set just under the rate the service was admitting, then grown
//   slowly (AIMD on rate). Optional hard limits (MODEL_MAX_REQUESTS_PER_MINUTE / _TOKENS_PER_MINUTE) cap both;
// - remaining: the x-ratelimit-remaining-requests / -tokens headers, minus what we sent since, hold requests
//   the service has already said it will refuse.
// Several processes sharing one deployment each see their own 429s and back off multiplicatively, which is
// what makes AIMD converge on a fair share without any coordination.
import { performance } from "node:perf_hooks";

export interface RateGovernorOptions {
  /** Ceiling of the adaptive concurrency limit. */
  maxConcurrency: number;
  /** Where the concurrency limit starts. */
  initialConcurrency: number;
  maxRequestsPerMinute?: number;
  maxTokensPerMinute?: number;
  now?: () => number;
}

/** What a response said about the quota (absent headers stay undefined). */
export interface QuotaHeaders {
  remainingRequests?: number;
  remainingTokens?: number;
}

export type ThrottledKind = "requests" | "tokens";

export interface Permit {
  /** The request succeeded after latencyMs; `usedTokens` replaces the estimate in the token rate when known. */
  succeeded(latencyMs: number, quota: QuotaHeaders): void;
  /** A 429: pause the whole process for retryAfterMs and lower the learned rate of that kind. */
  throttled(kind: ThrottledKind, retryAfterMs: number | undefined, quota: QuotaHeaders): void;
  /** Any other outcome: frees the slot and teaches nothing. */
  released(): void;
}

export interface GovernorSnapshot {
  concurrencyLimit: number;
  inFlight: number;
  waiting: number;
  /** Learned or configured pace per second; 0 when none applies. */
  requestRate: number;
  tokenRate: number;
  /** Milliseconds until the pause from the last 429 ends (0 when not paused). */
  pausedForMs: number;
}

/** Multiplicative decrease of a learned rate on a 429. Gentle, because the pace is re-learned each time. */
const RATE_DECREASE = 0.9;
/** Additive increase of a learned rate while requests wait for it: this share of the rate per second. */
const RATE_INCREASE_PER_SECOND = 0.01;
/** Burst a pace allows, in seconds of its rate: enough to not starve, small enough to stay inside 1 s windows. */
const PACE_BURST_SECONDS = 0.25;
/** Latency above this multiple of its baseline counts as a saturated server. */
const LATENCY_INFLATED = 2;
/** A held "remaining: 0" is trusted for this long without a fresher response; then one request probes. */
const REMAINING_STALE_MS = 1000;
/** Admitted throughput is measured over this window to seed a learned rate. */
const MEASURE_WINDOW_MS = 2000;

/** A token bucket whose rate may be unknown (Infinity), learned, and capped by a hard limit. */
class Pace {
  rate = Number.POSITIVE_INFINITY;
  private level = 0;
  private refilledAt: number;
  private decreasedAt = Number.NEGATIVE_INFINITY;
  private grownAt = 0;
  /** (time, amount) of admitted requests, for measuring the admitted rate. */
  private readonly admitted: Array<[number, number]> = [];

  constructor(
    private readonly hardLimitPerSecond: number,
    now: number,
  ) {
    this.refilledAt = now;
    this.level = this.capacity();
  }

  get effectiveRate(): number {
    return Math.min(this.rate, this.hardLimitPerSecond);
  }

  private capacity(): number {
    return this.effectiveRate * PACE_BURST_SECONDS;
  }

  private refill(now: number): void {
    const rate = this.effectiveRate;
    if (Number.isFinite(rate)) this.level = Math.min(this.capacity(), this.level + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
  }

  /** Milliseconds until `cost` fits (0: now). A cost larger than the burst passes once the bucket is full. */
  waitMs(cost: number, now: number): number {
    if (!Number.isFinite(this.effectiveRate)) return 0;
    this.refill(now);
    const needed = Math.min(cost, this.capacity());
    return this.level >= needed ? 0 : Math.ceil(((needed - this.level) / this.effectiveRate) * 1000);
  }

  take(cost: number, now: number): void {
    this.admitted.push([now, cost]);
    while ((this.admitted[0]?.[0] ?? now) < now - MEASURE_WINDOW_MS) this.admitted.shift();
    if (Number.isFinite(this.effectiveRate)) this.level -= cost;
  }

  /** A 429 of this kind, for a request sent at sentAt: one decrease per round of requests. */
  throttled(sentAt: number, now: number): void {
    if (sentAt < this.decreasedAt) return; // sent before the last decrease: already accounted for
    const measured = this.admitted.reduce((sum, [, cost]) => sum + cost, 0) / (MEASURE_WINDOW_MS / 1000);
    const base = Number.isFinite(this.rate) ? this.rate : Math.max(measured, 1e-3);
    this.rate = Math.max(base * RATE_DECREASE, 1e-3);
    this.decreasedAt = now;
    this.grownAt = now;
    this.level = Math.min(this.level, 0);
  }

  /** Grows a learned rate while work waits for it, by RATE_INCREASE_PER_SECOND of itself per second. */
  grow(now: number): void {
    if (!Number.isFinite(this.rate)) return;
    const seconds = Math.min(1, (now - this.grownAt) / 1000);
    this.rate *= 1 + RATE_INCREASE_PER_SECOND * seconds;
    this.grownAt = now;
  }
}

interface Waiter {
  cost: number;
  grant: (permit: Permit) => void;
  startedAt: number;
}

export class RateGovernor {
  private concurrencyLimit: number;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private pausedUntil = 0;
  private readonly requests: Pace;
  private readonly tokens: Pace;
  private remaining: { requests?: number; tokens?: number; at: number; sentSince: number; tokensSince: number } | undefined;
  private latencyEwma: number | undefined;
  private latencyBaseline = Number.POSITIVE_INFINITY;
  /** Until the first sign of a limit (a 429 or inflated latency) the concurrency limit doubles per round trip. */
  private slowStart = true;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Milliseconds requests spent waiting for the governor, summed (for the quota-wait metric). */
  waitedMs = 0;

  constructor(private readonly options: RateGovernorOptions) {
    this.now = options.now ?? (() => performance.now());
    this.concurrencyLimit = Math.min(options.initialConcurrency, options.maxConcurrency);
    const perSecond = (perMinute: number | undefined) => (perMinute === undefined ? Number.POSITIVE_INFINITY : perMinute / 60);
    this.requests = new Pace(perSecond(options.maxRequestsPerMinute), this.now());
    this.tokens = new Pace(perSecond(options.maxTokensPerMinute), this.now());
  }

  /** Waits until a request costing `estimatedTokens` may be sent; an abort while waiting rejects with the signal's reason. */
  acquire(estimatedTokens: number, signal?: AbortSignal): Promise<Permit> {
    signal?.throwIfAborted();
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = {
        cost: estimatedTokens,
        startedAt: this.now(),
        grant: (permit) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(permit);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  snapshot(): GovernorSnapshot {
    const finite = (rate: number) => (Number.isFinite(rate) ? rate : 0);
    return {
      concurrencyLimit: Math.floor(this.concurrencyLimit),
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      requestRate: finite(this.requests.effectiveRate),
      tokenRate: finite(this.tokens.effectiveRate),
      pausedForMs: Math.max(0, this.pausedUntil - this.now()),
    };
  }

  /** Stops the wake-up timer (waiters stay waiting); for closing the processor. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Grants waiters in FIFO order while every gate is open; otherwise sleeps until the earliest gate opens. */
  private pump(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0] as Waiter;
      const now = this.now();
      const waitMs = this.gateWaitMs(head.cost, now);
      if (waitMs === undefined) return; // a permit's release will pump again
      if (waitMs > 0) {
        this.wakeIn(waitMs);
        return;
      }
      this.waiters.shift();
      this.waitedMs += now - head.startedAt;
      head.grant(this.admit(head.cost, now));
    }
  }

  /** 0 when the request may go now, a wait in ms for a time-based gate, undefined when waiting for a slot. */
  private gateWaitMs(cost: number, now: number): number | undefined {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.inFlight >= Math.floor(this.concurrencyLimit)) return undefined;
    const remainingWait = this.remainingWaitMs(cost, now);
    if (remainingWait > 0) return remainingWait;
    return Math.max(this.requests.waitMs(1, now), this.tokens.waitMs(cost, now));
  }

  /** Holds requests the last quota headers say will be refused, until a fresher response or a probe. */
  private remainingWaitMs(cost: number, now: number): number {
    const r = this.remaining;
    if (!r) return 0;
    const staleAt = r.at + REMAINING_STALE_MS;
    if (now >= staleAt) {
      this.remaining = undefined;
      return 0;
    }
    const outOfRequests = r.requests !== undefined && r.requests - r.sentSince < 1;
    const outOfTokens = r.tokens !== undefined && r.tokens - r.tokensSince < cost;
    return outOfRequests || outOfTokens ? staleAt - now : 0;
  }

  private admit(cost: number, now: number): Permit {
    this.inFlight++;
    this.requests.take(1, now);
    this.tokens.take(cost, now);
    if (this.remaining) {
      this.remaining.sentSince++;
      this.remaining.tokensSince += cost;
    }
    const sentAt = now;
    let done = false;
    const finish = (quota: QuotaHeaders | undefined) => {
      if (done) return false;
      done = true;
      this.inFlight--;
      if (quota && (quota.remainingRequests !== undefined || quota.remainingTokens !== undefined)) {
        this.remaining = { requests: quota.remainingRequests, tokens: quota.remainingTokens, at: this.now(), sentSince: 0, tokensSince: 0 };
      }
      return true;
    };
    return {
      succeeded: (latencyMs, quota) => {
        if (!finish(quota)) return;
        this.observeLatency(latencyMs);
        if (this.waiters.length > 0) {
          const at = this.now();
          this.requests.grow(at);
          this.tokens.grow(at);
        }
        this.pump();
      },
      throttled: (kind, retryAfterMs, quota) => {
        if (!finish(quota)) return;
        const at = this.now();
        (kind === "tokens" ? this.tokens : this.requests).throttled(sentAt, at);
        this.slowStart = false;
        // Without a stated wait, a short one: the next round of the pace probes again.
        this.pausedUntil = Math.max(this.pausedUntil, at + (retryAfterMs ?? 1000));
        this.pump();
      },
      released: () => {
        if (finish(undefined)) this.pump();
      },
    };
  }

  /** Grows the concurrency limit while latency holds; shrinks it when latency doubles (a saturated server). */
  private observeLatency(latencyMs: number): void {
    this.latencyEwma = this.latencyEwma === undefined ? latencyMs : this.latencyEwma * 0.9 + latencyMs * 0.1;
    this.latencyBaseline = Math.min(this.latencyBaseline, this.latencyEwma);
    const inflated = this.latencyEwma > this.latencyBaseline * LATENCY_INFLATED;
    if (inflated) {
      this.slowStart = false;
      this.concurrencyLimit = Math.max(1, this.concurrencyLimit * 0.9);
      this.latencyBaseline *= 1.01; // a baseline from a quieter time drifts up instead of pinning the limit
    } else if (this.waiters.length > 0 && this.inFlight + 1 >= Math.floor(this.concurrencyLimit)) {
      // Slots were the constraint: +1 per completion in slow start (doubling per round trip), else +1 per round trip.
      const step = this.slowStart ? 1 : 1 / Math.floor(this.concurrencyLimit);
      this.concurrencyLimit = Math.min(this.options.maxConcurrency, this.concurrencyLimit + step);
    }
  }

  private wakeIn(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }
}
