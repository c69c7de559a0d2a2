// Small pieces the views share.
import { useEffect } from 'preact/hooks';
import { iso, time } from './format.js';
import { tlpLevel } from './stix.js';

/** Sets the document title to "<title> - Accord". */
export function useTitle(title) {
  useEffect(() => {
    document.title = `${title} - Accord`;
  }, [title]);
}

/** An error for the person to read; screen readers announce it when it appears. */
export function Alert({ children }) {
  return children ? (
    <p role="alert" class="alert">
      {children}
    </p>
  ) : null;
}

/** A time in UTC, with the exact value for machines. */
export function Time({ value }) {
  return value ? <time dateTime={iso(value)}>{time(value)}</time> : null;
}

/** A TLP badge ("TLP:AMBER+STRICT") in the level's colours; `level` as tlpLevel() gives it. */
export function TlpBadge({ level }) {
  return <span class={`badge tlp tlp-${level.replace('+', '-')}`}>TLP:{level.toUpperCase()}</span>;
}

/** A marking reference: its TLP badge when it is one, else its id. */
export function Marking({ id }) {
  const level = tlpLevel(id);
  return level ? <TlpBadge level={level} /> : <code class="id">{id}</code>;
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}
