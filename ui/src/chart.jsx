// Counts per day as SVG bars: small enough to write here, and no chart library in the bundle.
// Each bar carries its day and count as a <title> (shown on hover); the chart as a whole is an
// image with a text summary, and the views that use it list the same numbers in tables.

/**
 * `days` are the dates ("2026-12-05"), `series` the count of each. `height` in pixels; the
 * width follows the container. `label` names the chart for screen readers.
 */
export function Bars({ days, series, label, height = 120 }) {
  const max = Math.max(1, ...series);
  const total = series.reduce((a, b) => a + b, 0);
  const w = 100 / Math.max(1, series.length);
  return (
    <figure class="chart">
      <svg
        role="img"
        aria-label={`${label}: ${total} in ${series.length} days, at most ${max} a day`}
        viewBox={`0 0 100 ${height}`}
        preserveAspectRatio="none"
        height={height}
        width="100%"
      >
        {series.map((n, i) => {
          const h = (n / max) * (height - 2);
          return (
            <rect key={days[i]} x={i * w + w * 0.1} y={height - h} width={w * 0.8} height={h} class="bar">
              <title>{`${days[i]}: ${n}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted small">
        <span>{days[0]}</span>
        <span>
          {label}: {total.toLocaleString('en')}
        </span>
        <span>{days[days.length - 1]}</span>
      </figcaption>
    </figure>
  );
}

/** A tiny trend line for a table row (decorative: the row states the total). */
export function Spark({ series }) {
  const max = Math.max(1, ...series);
  const n = Math.max(1, series.length - 1);
  const points = series.map((v, i) => `${(i / n) * 100},${20 - (v / max) * 18}`).join(' ');
  return (
    <svg class="spark" viewBox="0 0 100 20" preserveAspectRatio="none" width="120" height="20" aria-hidden="true">
      <polyline points={points} fill="none" />
    </svg>
  );
}
