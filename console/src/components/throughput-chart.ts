import { TERMINAL_STATUSES } from '../../../functions/core/job-status.ts';
import { html } from '../html.ts';
import { niceMax, type MinuteBucket } from '../throughput.ts';

const WIDTH = 1200;
const HEIGHT = 260;
const PAD = { left: 40, right: 10, top: 12, bottom: 26 };

/**
 * Jobs ended per minute, stacked by how they ended, drawn as inline SVG: a few dozen rectangles need no charting
 * library, and nothing is fetched from elsewhere.
 */
export function ThroughputChart({ buckets }: { buckets: MinuteBucket[] }) {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.total)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, buckets.length);
  const y = (value: number) => PAD.top + plotHeight - (value / max) * plotHeight;
  const bars = buckets.flatMap((bucket, index) => {
    let base = 0;
    return TERMINAL_STATUSES.filter((status) => bucket.counts[status] > 0).map((status) => {
      const count = bucket.counts[status];
      const rect = html`<rect class=${`bar status-${status}`} x=${PAD.left + index * slot + 1} width=${Math.max(1, slot - 2)} y=${y(base + count)} height=${y(base) - y(base + count)}>
        <title>${new Date(bucket.start).toLocaleTimeString()}: ${count} ${status}</title>
      </rect>`;
      base += count;
      return rect;
    });
  });
  const ticks = [0, max / 2, max];
  const minuteMarks = buckets.map((bucket, index) => ({ bucket, index })).filter(({ index }) => (buckets.length - index) % 10 === 0);
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Jobs ended per minute over the last hour" data-testid="throughput-chart">
    ${ticks.map(
      (tick) => html`<g>
        <line class="grid-line" x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${y(tick)} y2=${y(tick)} />
        <text class="axis" x=${PAD.left - 6} y=${y(tick) + 4} text-anchor="end">${Number.isInteger(tick) ? tick : tick.toFixed(1)}</text>
      </g>`,
    )}
    ${bars}
    ${minuteMarks.map(
      ({ index }) => html`<text class="axis" x=${PAD.left + index * slot} y=${HEIGHT - 6} text-anchor="middle">−${buckets.length - index} min</text>`,
    )}
    <text class="axis" x=${WIDTH - PAD.right} y=${HEIGHT - 6} text-anchor="end">now</text>
  </svg>`;
}
