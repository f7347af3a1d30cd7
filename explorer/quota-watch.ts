// A consumer group's model quotas as the page asks for them: the latest reading of the fleet records plus the
// last minutes of samples. The explorer samples on its own clock, once a second, while anyone is watching
// (someone asked within the last WATCHED_FOR_MS), so every page and every reload draws the same history, a
// background tab's slowed timers leave no holes, and nobody watching costs no storage requests. The first
// question after a quiet spell waits for one fresh reading; the history keeps what was sampled before it.
import { errorFields } from "../worker/index";
import type { FleetListing } from "./fleet-records";
import { summariseQuota, type DeploymentQuota, type FleetQuota } from "./model-quota";
import { QuotaHistory, type DeploymentSeries } from "./quota-history";

/** One sample a second: the workers write their records once a second by default. */
export const SAMPLE_EVERY_MS = 1000;
/** How far back the history goes, and so how many samples it holds at most. */
export const HISTORY_MS = 5 * 60_000;
export const MAX_SAMPLES = Math.ceil(HISTORY_MS / SAMPLE_EVERY_MS) + 1;
/** Sampling stops when nobody has asked for this long. */
const WATCHED_FOR_MS = 30_000;
const FILL_WINDOW_MS = 60_000;
const READ_TIMEOUT_MS = 5000;

export interface DeploymentQuotaView extends DeploymentQuota {
  /** Mean accepted over the last minute's samples, as a share of the quota; null without a quota. */
  fillLastMinute: number | null;
  history: DeploymentSeries;
}

export interface ModelQuotaView extends Omit<FleetQuota, "deployments"> {
  /** When the latest reading was taken (ms since the epoch, the explorer's clock; the history's `at` uses the same); null before the first. */
  sampledAt: number | null;
  /** Why the latest reading failed; the figures are then the last good ones. */
  error?: string;
  sampleEverySeconds: number;
  historySeconds: number;
  deployments: DeploymentQuotaView[];
}

export interface QuotaWatchOptions {
  read: (signal: AbortSignal) => Promise<FleetListing>;
}

/** A deployment only the history knows: no live replica calls it now. */
const uncalled = (name: string): DeploymentQuota => ({
  name, quotaRequestsPerSecond: null, sentPerSecond: 0, acceptedPerSecond: 0, throttledPerSecond: 0, fill: null, circuits: { closed: 0, open: 0, "half-open": 0 }, replicas: [],
});

export class QuotaWatch {
  private readonly history = new QuotaHistory(HISTORY_MS, MAX_SAMPLES);
  private latest: FleetQuota = { liveReplicas: 0, goneReplicas: 0, unreadableRecords: 0, deployments: [] };
  private sampledAt: number | null = null;
  private error: string | undefined;
  private askedAt = 0;
  /** Set while sampling runs: settles once the spell's first reading is in. */
  private spell: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: QuotaWatchOptions) {}

  async view(): Promise<ModelQuotaView> {
    this.askedAt = Date.now();
    this.spell ??= this.sample().then(() => this.schedule());
    await this.spell;
    const now = this.sampledAt ?? Date.now();
    const live = new Map(this.latest.deployments.map((d) => [d.name, d]));
    const names = [...new Set([...live.keys(), ...this.history.names()])].sort();
    const deployments = names.map((name): DeploymentQuotaView => {
      const current = live.get(name) ?? uncalled(name);
      return { ...current, fillLastMinute: this.history.fillSince(name, now - FILL_WINDOW_MS, current.quotaRequestsPerSecond), history: this.history.series(name) };
    });
    return {
      liveReplicas: this.latest.liveReplicas,
      goneReplicas: this.latest.goneReplicas,
      unreadableRecords: this.latest.unreadableRecords,
      sampledAt: this.sampledAt,
      ...(this.error ? { error: this.error } : {}),
      sampleEverySeconds: SAMPLE_EVERY_MS / 1000,
      historySeconds: HISTORY_MS / 1000,
      deployments,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    if (Date.now() - this.askedAt > WATCHED_FOR_MS) {
      this.spell = undefined;
      return;
    }
    this.timer = setTimeout(() => void this.sample().then(() => this.schedule()), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  /** Never throws: a failed reading keeps the last good figures and says why. */
  private async sample(): Promise<void> {
    try {
      const listing = await this.options.read(AbortSignal.timeout(READ_TIMEOUT_MS));
      this.latest = summariseQuota(listing);
      this.sampledAt = Date.now();
      this.error = undefined;
      this.history.add(this.sampledAt, this.latest);
    } catch (error) {
      this.error = `fleet records unreadable: ${errorFields(error).message}`;
    }
  }
}
