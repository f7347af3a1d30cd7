// The benchmark chart as hand-written SVG (no chart library needed for two bar panels): throughput per
// configuration (median bar, min-max whisker) and the end-to-end latency distribution (share of events
// per latency bucket, with p50/p99 marked).
import type { BenchReport } from "./report";

const WIDTH = 900;
const MARGIN_LEFT = 300;
const MARGIN_RIGHT = 90;
const BAR_HEIGHT = 26;
const BAR_GAP = 12;
const COLORS = { bar: "#4c78a8", ours: "#f58518", whisker: "#333", grid: "#ddd", text: "#222", muted: "#666" };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

/** A round axis maximum at or above `value`: 1, 2 or 5 times a power of ten. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value) ?? 10 * power);
}

function throughputPanel(report: BenchReport, top: number): { svg: string[]; height: number } {
  const plotWidth = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
  const configurations = report.configurations;
  const axisMax = niceCeiling(Math.max(...configurations.map((c) => c.eventsPerSecond.max)));
  const scale = (value: number) => MARGIN_LEFT + (value / axisMax) * plotWidth;
  const svg: string[] = [text(20, top + 18, "Throughput (events/s, median with min-max)", `font-size="16" font-weight="bold" fill="${COLORS.text}"`)];
  const plotTop = top + 34;
  const plotHeight = configurations.length * (BAR_HEIGHT + BAR_GAP);
  for (let tick = 0; tick <= 5; tick++) {
    const value = (axisMax / 5) * tick;
    const x = scale(value);
    svg.push(`<line x1="${x.toFixed(1)}" y1="${plotTop}" x2="${x.toFixed(1)}" y2="${plotTop + plotHeight}" stroke="${COLORS.grid}"/>`);
    svg.push(text(x, plotTop + plotHeight + 16, Math.round(value).toLocaleString("en-US"), `font-size="11" text-anchor="middle" fill="${COLORS.muted}"`));
  }
  configurations.forEach((c, i) => {
    const y = plotTop + i * (BAR_HEIGHT + BAR_GAP) + BAR_GAP / 2;
    const middle = y + BAR_HEIGHT / 2;
    const color = c.id === "worker" ? COLORS.ours : COLORS.bar;
    svg.push(text(MARGIN_LEFT - 10, middle + 4, c.label, `font-size="13" text-anchor="end" fill="${COLORS.text}"`));
    svg.push(`<rect x="${MARGIN_LEFT}" y="${y.toFixed(1)}" width="${(scale(c.eventsPerSecond.median) - MARGIN_LEFT).toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}"/>`);
    if (c.eventsPerSecond.values.length > 1) {
      const [x1, x2] = [scale(c.eventsPerSecond.min), scale(c.eventsPerSecond.max)];
      svg.push(`<line x1="${x1.toFixed(1)}" y1="${middle}" x2="${x2.toFixed(1)}" y2="${middle}" stroke="${COLORS.whisker}" stroke-width="1.5"/>`);
      for (const x of [x1, x2]) svg.push(`<line x1="${x.toFixed(1)}" y1="${middle - 6}" x2="${x.toFixed(1)}" y2="${middle + 6}" stroke="${COLORS.whisker}" stroke-width="1.5"/>`);
    }
    svg.push(text(Math.max(scale(c.eventsPerSecond.max), scale(c.eventsPerSecond.median)) + 6, middle + 4, Math.round(c.eventsPerSecond.median).toLocaleString("en-US"), `font-size="12" fill="${COLORS.text}"`));
  });
  return { svg, height: 34 + plotHeight + 30 };
}

function latencyPanel(report: BenchReport, top: number): { svg: string[]; height: number } {
  const { latency } = report.latency;
  const buckets = latency.histogram;
  const total = Math.max(1, latency.samples);
  const plotLeft = 70;
  const plotWidth = WIDTH - plotLeft - 40;
  const plotHeight = 180;
  const plotTop = top + 34;
  const maxShare = niceCeiling(Math.max(...buckets.map((b) => b.count / total)) * 100);
  const slot = plotWidth / buckets.length;
  const title = `End-to-end latency at ${Math.round(report.latency.offeredRate).toLocaleString("en-US")} events/s: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (${latency.samples.toLocaleString("en-US")} events)`;
  const svg: string[] = [text(20, top + 18, title, `font-size="16" font-weight="bold" fill="${COLORS.text}"`)];
  for (let tick = 0; tick <= 5; tick++) {
    const share = (maxShare / 5) * tick;
    const y = plotTop + plotHeight - (share / maxShare) * plotHeight;
    svg.push(`<line x1="${plotLeft}" y1="${y.toFixed(1)}" x2="${plotLeft + plotWidth}" y2="${y.toFixed(1)}" stroke="${COLORS.grid}"/>`);
    svg.push(text(plotLeft - 8, y + 4, `${Number(share.toFixed(1))}%`, `font-size="11" text-anchor="end" fill="${COLORS.muted}"`));
  }
  let previous = 0;
  buckets.forEach((bucket, i) => {
    const share = (bucket.count / total) * 100;
    const height = (share / maxShare) * plotHeight;
    const x = plotLeft + i * slot + 3;
    const color = bucket.le !== null && bucket.le <= 50 ? COLORS.bar : COLORS.ours;
    svg.push(`<rect x="${x.toFixed(1)}" y="${(plotTop + plotHeight - height).toFixed(1)}" width="${(slot - 6).toFixed(1)}" height="${height.toFixed(1)}" fill="${color}"/>`);
    const label = bucket.le === null ? `>${previous}` : `${previous}-${bucket.le}`;
    svg.push(text(x + (slot - 6) / 2, plotTop + plotHeight + 16, label, `font-size="11" text-anchor="middle" fill="${COLORS.muted}"`));
    previous = bucket.le ?? previous;
  });
  svg.push(text(plotLeft + plotWidth / 2, plotTop + plotHeight + 34, "latency bucket (ms); orange: above the 50 ms target", `font-size="12" text-anchor="middle" fill="${COLORS.muted}"`));
  return { svg, height: 34 + plotHeight + 46 };
}

export function renderChart(report: BenchReport): string {
  const throughput = throughputPanel(report, 10);
  const latency = latencyPanel(report, 10 + throughput.height + 10);
  const height = 10 + throughput.height + 10 + latency.height + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...throughput.svg,
    ...latency.svg,
    "</svg>",
    "",
  ].join("\n");
}
