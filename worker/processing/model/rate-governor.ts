// One per deployment in each worker process, shared by every partition: decides when the next request to the
// deployment may go out, so the process fills its share of the deployment's quota without storms of 429s. The
// router (model-router.ts) holds the queue and asks each deployment's governor whether a request may go now.
//
// Three gates, all of which a request must pass:
// - pause: after a 429 nothing is sent before the time the service gave (retry-after-ms / retry-after), and
//   the pace resumes from empty, so processes do not all burst at the next window boundary;
// - concurrency: an adaptive limit on requests in flight. It doubles per round trip until the first sign of a
//   limit, then grows by one per round trip while work waits and latency holds (a local server that queues
//   shows its saturation as latency), and shrinks when latency doubles over its baseline;
// - pace: a request rate and a token rate, each learned from the service: unknown (unlimited) until the first
//   429 of that kind, then set 10% under what the service admitted in the second before it; lowered by 10% at
//   each later 429 or answer saying the window has nothing left (x-ratelimit-remaining-* = 0); grown while
//   work waits, faster the longer no 429 came (AIMD on rate). Two caps bound it: this process's hard limits
//   (MODEL_MAX_REQUESTS_PER_MINUTE / _TOKENS_PER_MINUTE), and its share of the deployment's quota, which the
//   fleet coordinator sets from what every replica reports (see worker/fleet/). Without a share (no quota
//   configured, or coordination down) each process learns its own pace from the 429s it sees.
import { performance } from "node:perf_hooks";

export interface RateGovernorOptions {
  /** Ceiling of the adaptive concurrency limit. */
  maxConcurrency: number;
  /** Where the concurrency limit starts. */
  initialConcurrency: number;
  /** This process's hard limits, whatever its share of the fleet's. */
  maxRequestsPerMinute?: number;
  maxTokensPerMinute?: number;
  now?: () => number;
}

/** Requests and tokens per second: a share of a quota, or what was used. */
export interface Rates {
  requestsPerSecond: number;
  tokensPerSecond: number;
}

/** What a response said about the quota (absent headers stay undefined). */
export interface QuotaHeaders {
  remainingRequests?: number;
  remainingTokens?: number;
}

export type ThrottledKind = "requests" | "tokens";

export interface Permit {
  /** The request succeeded after latencyMs; a quota header saying the window is used up eases the pace off. */
  succeeded(latencyMs: number, quota: QuotaHeaders): void;
  /** A 429: pause the whole process for retryAfterMs and lower the learned rate of that kind. */
  throttled(kind: ThrottledKind, retryAfterMs: number | undefined): void;
  /** Any other outcome: frees the slot and teaches nothing. */
  released(): void;
}

export interface GovernorSnapshot {
  concurrencyLimit: number;
  inFlight: number;
  /** Learned or configured pace per second; 0 when none applies. */
  requestRate: number;
  tokenRate: number;
  /** Milliseconds until the pause from the last 429 ends (0 when not paused). */
  pausedForMs: number;
  /** This process's share of the deployment's quota, per second, while the fleet coordinates it. */
  share?: Rates;
}

/** Multiplicative decrease of a learned rate on a 429. Gentle, because the pace is re-learned each time. */
const RATE_DECREASE = 0.9;
/**
 * Increase of a learned rate while requests wait for it: this share of the rate per second right after a
 * decrease, one more share for every ACCELERATE_AFTER_MS without one. Back from 90% to the limit takes a few
 * seconds, so a process meets a 429 every few seconds at its share of the quota, and quota that another
 * process stops using is taken up within seconds.
 */
const RATE_INCREASE_PER_SECOND = 0.02;
const ACCELERATE_AFTER_MS = 2000;
/** Burst a pace allows, in seconds of its rate: enough to not starve, small enough to stay inside 1 s windows. */
const PACE_BURST_SECONDS = 0.25;
/** Latency above this multiple of its baseline counts as a saturated server. */
const LATENCY_INFLATED = 2;
/**
 * What the service admitted over this last stretch seeds a learned rate. One second: quota windows are 1 s or
 * longer, and a longer look-back would average in the ramp-up that led to the first 429.
 */
const MEASURE_WINDOW_MS = 1000;
/**
 * With a fleet share, a 429 more than this long after the last one is taken for what it usually is: the replicas'
 * requests meeting in one of the service's windows. It pauses, but only repeated 429s (a quota lower than
 * declared, or callers outside the fleet) lower the pace.
 */
const ISOLATED_REFUSAL_MS = 5000;

/** A token bucket whose rate may be unknown (Infinity), learned, and capped by a hard limit. */
class Pace {
  rate = Number.POSITIVE_INFINITY;
  private level = 0;
  private refilledAt: number;
  private decreasedAt = Number.NEGATIVE_INFINITY;
  private refusedAt = Number.NEGATIVE_INFINITY;
  private grownAt = 0;
  /** (time sent, amount) of recent requests, for measuring the rate the service admitted. */
  private readonly sent: Array<[number, number]> = [];
  private firstSentAt: number | undefined;

  /** The fleet's share for this process, per second (Infinity: none); set with setShare. */
  share = Number.POSITIVE_INFINITY;

  constructor(
    private readonly hardLimitPerSecond: number,
    now: number,
  ) {
    this.refilledAt = now;
    this.level = this.capacity();
  }

  get effectiveRate(): number {
    return Math.min(this.rate, this.hardLimitPerSecond, this.share);
  }

  /**
   * A new share from the fleet. A pace learned under a smaller share measured what this process was left, not the
   * deployment's limit: it grows with the share, so quota another replica gives up is taken up at once.
   */
  setShare(share: number): void {
    if (Number.isFinite(this.rate) && Number.isFinite(this.share) && Number.isFinite(share) && share > this.share) {
      this.rate *= share / this.share;
    }
    this.share = share;
  }

  /** What was sent per second over the last MEASURE_WINDOW_MS. */
  usedPerSecond(now: number): number {
    const since = now - MEASURE_WINDOW_MS;
    return this.sent.reduce((sum, [at, cost]) => (at >= since ? sum + cost : sum), 0) / (MEASURE_WINDOW_MS / 1000);
  }

  private capacity(): number {
    return this.effectiveRate * PACE_BURST_SECONDS;
  }

  private refill(now: number): void {
    if (now <= this.refilledAt) return; // held (see holdUntil)
    const rate = this.effectiveRate;
    if (Number.isFinite(rate)) this.level = Math.min(this.capacity(), this.level + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
  }

  /**
   * Empties the bucket and keeps it from refilling until `until` (the end of a 429's pause), so requests resume
   * at the pace instead of as a burst; with every process bursting at the same window boundary, the excess
   * would be refused again at each one.
   */
  holdUntil(until: number): void {
    this.level = Math.min(this.level, 0);
    this.refilledAt = Math.max(this.refilledAt, until);
  }

  /** Milliseconds until `cost` fits (0: now). A cost larger than the burst passes once the bucket is full. */
  waitMs(cost: number, now: number): number {
    if (!Number.isFinite(this.effectiveRate)) return 0;
    this.refill(now);
    const needed = Math.min(cost, this.capacity());
    return this.level >= needed ? 0 : Math.ceil(((needed - this.level) / this.effectiveRate) * 1000);
  }

  take(cost: number, now: number): void {
    if (Number.isFinite(this.effectiveRate)) this.level -= cost;
    this.firstSentAt ??= now;
    this.sent.push([now, cost]);
    while ((this.sent[0]?.[0] ?? now) < now - 2 * MEASURE_WINDOW_MS) this.sent.shift();
  }

  /**
   * A 429 of this kind (or a "remaining: 0"), for a request sent at sentAt: one decrease per round of requests.
   * The first one seeds the rate from what the service admitted just before it.
   */
  throttled(sentAt: number, now: number): void {
    if (sentAt < this.decreasedAt) return; // sent before the last decrease: already accounted for
    const isolated = Number.isFinite(this.share) && now - this.refusedAt > ISOLATED_REFUSAL_MS;
    this.refusedAt = now;
    if (isolated) return;
    let base = this.rate;
    if (!Number.isFinite(base)) {
      // The first refusal: what we sent in the second before the refused request went through, so that is the
      // rate the service admits (counted by send time: answers still on their way were admitted too).
      const since = Math.max(sentAt - MEASURE_WINDOW_MS, this.firstSentAt ?? sentAt);
      const admitted = this.sent.filter(([at]) => at >= since && at < sentAt).reduce((sum, [, cost]) => sum + cost, 0);
      if (admitted === 0) return; // nothing to learn from: the pause alone applies
      base = admitted / Math.max((sentAt - since) / 1000, 0.5);
    }
    this.rate = base * RATE_DECREASE;
    this.decreasedAt = now;
    this.grownAt = now;
    this.level = Math.min(this.level, 0);
  }

  /**
   * Grows a learned rate while work waits for it: RATE_INCREASE_PER_SECOND of itself per second right after a
   * decrease, more the longer no 429 came (one more share every ACCELERATE_AFTER_MS), so a rate learned too
   * low, or capacity that other processes freed, is taken up in seconds rather than minutes.
   */
  grow(now: number): void {
    if (!Number.isFinite(this.rate)) return;
    const seconds = Math.min(1, (now - this.grownAt) / 1000);
    const acceleration = 1 + Math.max(0, now - this.decreasedAt) / ACCELERATE_AFTER_MS;
    this.rate *= 1 + RATE_INCREASE_PER_SECOND * acceleration * seconds;
    this.grownAt = now;
  }
}

/**
 * One deployment's gates. No queue of its own: the router asks `waitMs` for its queue's head and `admit`s it
 * where the gates are open; `hasDemand` tells the governor whether work waits (it grows the pace and the
 * concurrency limit only then), and `onFreed` is called when a request finishes so the router can try again.
 */
export class RateGovernor {
  private concurrencyLimit: number;
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly requests: Pace;
  private readonly tokens: Pace;
  private latencyEwma: number | undefined;
  private latencyBaseline = Number.POSITIVE_INFINITY;
  /** Until the first sign of a limit (a 429 or inflated latency) the concurrency limit doubles per round trip. */
  private slowStart = true;
  private readonly now: () => number;
  private hasDemand: () => boolean = () => false;
  private onFreed: () => void = () => undefined;

  constructor(private readonly options: RateGovernorOptions) {
    this.now = options.now ?? (() => performance.now());
    this.concurrencyLimit = Math.min(options.initialConcurrency, options.maxConcurrency);
    const perSecond = (perMinute: number | undefined) => (perMinute === undefined ? Number.POSITIVE_INFINITY : perMinute / 60);
    this.requests = new Pace(perSecond(options.maxRequestsPerMinute), this.now());
    this.tokens = new Pace(perSecond(options.maxTokensPerMinute), this.now());
  }

  /** Connects the governor to the router that queues its requests; `onFreed` is called whenever a gate may have opened. */
  attach(hasDemand: () => boolean, onFreed: () => void): void {
    this.hasDemand = hasDemand;
    this.onFreed = onFreed;
  }

  /** 0 when a request costing `cost` tokens may go now, a wait in ms for a time-based gate, undefined when every slot is taken. */
  waitMs(cost: number): number | undefined {
    const now = this.now();
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.inFlight >= Math.floor(this.concurrencyLimit)) return undefined;
    return Math.max(this.requests.waitMs(1, now), this.tokens.waitMs(cost, now));
  }

  /**
   * The fleet's share of the deployment's quota for this process (undefined: none, the process paces on its own).
   * The learned pace stays below it, so a quota that is configured too high still meets the 429s it causes.
   */
  setShare(share: Rates | undefined): void {
    this.requests.setShare(share?.requestsPerSecond ?? Number.POSITIVE_INFINITY);
    this.tokens.setShare(share?.tokensPerSecond ?? Number.POSITIVE_INFINITY);
    this.onFreed(); // a larger share may open the gate now: the router must not sleep on a wait computed before
  }

  /** What this process sent over the last second, per second. */
  usage(): Rates {
    const now = this.now();
    return { requestsPerSecond: this.requests.usedPerSecond(now), tokensPerSecond: this.tokens.usedPerSecond(now) };
  }

  snapshot(): GovernorSnapshot {
    const finite = (rate: number) => (Number.isFinite(rate) ? rate : 0);
    const snapshot: GovernorSnapshot = {
      concurrencyLimit: Math.floor(this.concurrencyLimit),
      inFlight: this.inFlight,
      requestRate: finite(this.requests.effectiveRate),
      tokenRate: finite(this.tokens.effectiveRate),
      pausedForMs: Math.max(0, this.pausedUntil - this.now()),
    };
    if (Number.isFinite(this.requests.share) || Number.isFinite(this.tokens.share)) {
      snapshot.share = { requestsPerSecond: finite(this.requests.share), tokensPerSecond: finite(this.tokens.share) };
    }
    return snapshot;
  }

  /** Takes a slot and the pace for a request the router sends now (after waitMs said 0). */
  admit(cost: number): Permit {
    const now = this.now();
    this.inFlight++;
    this.requests.take(1, now);
    this.tokens.take(cost, now);
    const sentAt = now;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.inFlight--;
      return true;
    };
    return {
      succeeded: (latencyMs, quota) => {
        if (!finish()) return;
        const at = this.now();
        // The last one the window allowed: the pace is at the limit, so it eases off as after a 429, unpaused. Not
        // with a fleet share: the window counts every replica's requests, and the shares already divide them.
        if (quota.remainingRequests === 0 && !Number.isFinite(this.requests.share)) this.requests.throttled(sentAt + 1e-6, at);
        if (quota.remainingTokens !== undefined && quota.remainingTokens < cost && !Number.isFinite(this.tokens.share)) this.tokens.throttled(sentAt + 1e-6, at);
        this.observeLatency(latencyMs);
        if (this.hasDemand()) {
          this.requests.grow(at);
          this.tokens.grow(at);
        }
        this.onFreed();
      },
      throttled: (kind, retryAfterMs) => {
        if (!finish()) return;
        const at = this.now();
        (kind === "tokens" ? this.tokens : this.requests).throttled(sentAt, at);
        this.slowStart = false;
        // Without a stated wait, a short one: the next round of the pace probes again.
        this.pausedUntil = Math.max(this.pausedUntil, at + (retryAfterMs ?? 1000));
        this.requests.holdUntil(this.pausedUntil);
        this.tokens.holdUntil(this.pausedUntil);
        this.onFreed();
      },
      released: () => {
        if (finish()) this.onFreed();
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
    } else if (this.hasDemand() && this.inFlight + 1 >= Math.floor(this.concurrencyLimit)) {
      // Slots were the constraint: +1 per completion in slow start (doubling per round trip), else +1 per round trip.
      const step = this.slowStart ? 1 : 1 / Math.floor(this.concurrencyLimit);
      this.concurrencyLimit = Math.min(this.options.maxConcurrency, this.concurrencyLimit + step);
    }
  }
}
