// The last minutes of a fleet's quota use, one sample per reading of its records: per deployment what was
// accepted, throttled and sent per second, and the quota. Bounded by age and by count, whatever happens.
import { roundRate, type FleetQuota } from "./model-quota";

export interface DeploymentSample {
  accepted: number;
  throttled: number;
  sent: number;
  /** null: no live replica stated a quota. */
  quota: number | null;
}

/** One deployment over time, column by column (compact as JSON); `at` in ms since the epoch, this machine's clock. */
export interface DeploymentSeries {
  at: number[];
  accepted: number[];
  throttled: number[];
  sent: number[];
  quota: Array<number | null>;
}

/** A deployment no live replica calls at a sample: nothing sent, no quota stated. */
const ABSENT: DeploymentSample = { accepted: 0, throttled: 0, sent: 0, quota: null };

export class QuotaHistory {
  private readonly samples: Array<{ at: number; deployments: Map<string, DeploymentSample> }> = [];

  constructor(
    private readonly keepMs: number,
    private readonly maxSamples: number,
  ) {}

  add(at: number, fleet: FleetQuota): void {
    const deployments = new Map(
      fleet.deployments.map((d) => [d.name, { accepted: d.acceptedPerSecond, throttled: d.throttledPerSecond, sent: d.sentPerSecond, quota: d.quotaRequestsPerSecond }]),
    );
    this.samples.push({ at, deployments });
    while (this.samples.length > this.maxSamples || (this.samples[0]?.at ?? at) < at - this.keepMs) this.samples.shift();
  }

  /** Every deployment seen in the samples kept. */
  names(): string[] {
    return [...new Set(this.samples.flatMap((s) => [...s.deployments.keys()]))].sort();
  }

  series(name: string): DeploymentSeries {
    const series: DeploymentSeries = { at: [], accepted: [], throttled: [], sent: [], quota: [] };
    for (const { at, deployments } of this.samples) {
      const sample = deployments.get(name) ?? ABSENT;
      series.at.push(at);
      series.accepted.push(sample.accepted);
      series.throttled.push(sample.throttled);
      series.sent.push(sample.sent);
      series.quota.push(sample.quota);
    }
    return series;
  }

  /** Mean accepted per second over the samples since `since`, as a share of `quota`; null without samples or quota. */
  fillSince(name: string, since: number, quota: number | null): number | null {
    const recent = this.samples.filter((s) => s.at >= since);
    if (!quota || recent.length === 0) return null;
    const accepted = recent.reduce((sum, s) => sum + (s.deployments.get(name) ?? ABSENT).accepted, 0);
    return roundRate(accepted / recent.length / quota);
  }
}
