// Times and durations for people. Times stay in UTC, as the node and its peers write them, so
// what one analyst reads out over the phone is what the other sees.

/** "2026-01-15 09:06 UTC" from an RFC 3339 time; the text itself when it does not parse. */
export function time(s) {
  if (!s) return '';
  const d = new Date(s);
  if (isNaN(d)) return String(s);
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** "2d 3h", "1h 20m", "5m", "under 1m" for a span in milliseconds (its absolute value). */
export function duration(ms) {
  const m = Math.floor(Math.abs(ms) / 60000);
  if (m < 1) return 'under 1m';
  const d = Math.floor(m / 1440);
  const hh = Math.floor((m % 1440) / 60);
  const mm = m % 60;
  if (d) return hh ? `${d}d ${hh}h` : `${d}d`;
  if (hh) return mm ? `${hh}h ${mm}m` : `${hh}h`;
  return `${mm}m`;
}

/** An <time> element's machine-readable value. */
export const iso = (s) => {
  const d = new Date(s);
  return isNaN(d) ? undefined : d.toISOString();
};
