/**
 * A horizontal stacked bar chart as SVG text, written by hand (no charting package): one bar per
 * row, one coloured segment per stage, an axis in seconds and a legend. Used for the voice-turn
 * breakdown in bench/RESULTS.md.
 */

export interface StackedBar {
  label: string;
  /** Segment lengths in milliseconds, in the order of the legend (NaN or negative draws nothing). */
  segments: number[];
}

const COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"];

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function stackedBarSvg(title: string, legend: string[], bars: StackedBar[]): string {
  const labelWidth = 230;
  const plotWidth = 560;
  const barHeight = 22;
  const gap = 12;
  const top = 40;
  const totals = bars.map((b) => b.segments.reduce((s, v) => s + (Number.isFinite(v) && v > 0 ? v : 0), 0));
  const maxMs = Math.max(1, ...totals);
  // Axis ticks at a round step in seconds.
  const steps = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];
  const step = steps.find((s) => (maxMs / 1000) / s <= 8) ?? 120;
  const axisMax = Math.ceil(maxMs / 1000 / step) * step;
  const x = (ms: number) => labelWidth + (ms / 1000 / axisMax) * plotWidth;
  const plotBottom = top + bars.length * (barHeight + gap);
  const legendTop = plotBottom + 36;
  const height = legendTop + Math.ceil(legend.length / 3) * 20 + 10;
  const width = labelWidth + plotWidth + 70;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let t = 0; t <= axisMax + 1e-9; t += step) {
    const xt = x(t * 1000).toFixed(1);
    out.push(`<line x1="${xt}" y1="${top - 6}" x2="${xt}" y2="${plotBottom}" stroke="#dddddd"/>`);
    out.push(`<text x="${xt}" y="${plotBottom + 16}" text-anchor="middle" fill="#555555">${Number(t.toFixed(2))} s</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    out.push(`<text x="${labelWidth - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escape(bar.label)}</text>`);
    let at = 0;
    bar.segments.forEach((ms, s) => {
      if (!Number.isFinite(ms) || ms <= 0) return;
      const x0 = x(at);
      const w = x(at + ms) - x0;
      out.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${COLOURS[s % COLOURS.length]}"><title>${escape(legend[s])}: ${Math.round(ms)} ms</title></rect>`);
      at += ms;
    });
    out.push(`<text x="${(x(at) + 6).toFixed(1)}" y="${y + barHeight / 2 + 4}" fill="#333333">${(totals[i] / 1000).toFixed(2)} s</text>`);
  });
  legend.forEach((name, s) => {
    const lx = 10 + (s % 3) * 280;
    const ly = legendTop + Math.floor(s / 3) * 20;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLOURS[s % COLOURS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${escape(name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
