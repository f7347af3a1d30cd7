// The quota benchmark's chart as hand-written SVG: goodput as a share of the quota per configuration, one bar
// each (median), grouped by quota, then the fleet scenarios, with the 90% target line.

/** What the chart reads of the quota report (run.ts): each configuration's and fleet scenario's name and median goodput share. */
export interface QuotaChartInput {
  runs: ReadonlyArray<{ id: string; label: string; quota: string; goodputShare: { median: number } }>;
  fleet: ReadonlyArray<{ label: string; spreads: { goodputShare: { median: number } } }>;
}

const WIDTH = 960;
const LEFT = 390;
const RIGHT = 70;
const BAR = 22;
const GAP = 8;

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderQuotaChart(report: QuotaChartInput): string {
  const plot = WIDTH - LEFT - RIGHT;
  const x = (share: number) => LEFT + Math.min(share, 1.2) / 1.2 * plot;
  const top = 50;
  const rows = [
    ...report.runs.map((run) => ({ label: `${run.quota}: ${run.label}`, share: run.goodputShare.median, ours: run.id.startsWith("worker") || run.id.startsWith("embeddings") })),
    ...report.fleet.map((run) => ({ label: `fleet: ${run.label}`, share: run.spreads.goodputShare.median, ours: true })),
  ];
  const height = top + rows.length * (BAR + GAP) + 40;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="28" font-size="16" font-weight="bold">Goodput as a share of the model's quota (median)</text>`,
  ];
  for (const tick of [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]) {
    svg.push(`<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${height - 34}" stroke="#ddd"/>`);
    svg.push(`<text x="${x(tick)}" y="${height - 18}" font-size="11" text-anchor="middle" fill="#666">${Math.round(tick * 100)}%</text>`);
  }
  svg.push(`<line x1="${x(0.9)}" y1="${top - 6}" x2="${x(0.9)}" y2="${height - 34}" stroke="#e45756" stroke-dasharray="4 3"/>`);
  rows.forEach((row, i) => {
    const y = top + i * (BAR + GAP);
    svg.push(`<text x="${LEFT - 8}" y="${y + BAR * 0.7}" font-size="12" text-anchor="end">${escapeXml(row.label)}</text>`);
    svg.push(`<rect x="${LEFT}" y="${y}" width="${(x(row.share) - LEFT).toFixed(1)}" height="${BAR}" fill="${row.ours ? "#f58518" : "#4c78a8"}"/>`);
    svg.push(`<text x="${(x(row.share) + 4).toFixed(1)}" y="${y + BAR * 0.7}" font-size="11">${(row.share * 100).toFixed(1)}%</text>`);
  });
  svg.push("</svg>");
  return `${svg.join("\n")}\n`;
}
