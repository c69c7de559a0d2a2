// Small pieces the views share.
import { useEffect, useState } from 'preact/hooks';
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

/** A labelled text input in a toolbar form; `grow` lets it take the row's free width. */
export function TextField({ id, label, grow, type = 'text', ...rest }) {
  return (
    <div class={grow ? 'field grow' : 'field'}>
      <label for={id}>{label}</label>
      <input id={id} type={type} spellcheck={false} autoComplete="off" {...rest} />
    </div>
  );
}

/** A toolbar form's submit button. */
export function SubmitField({ label }) {
  return (
    <div class="field">
      <button type="submit">{label}</button>
    </div>
  );
}

/** A page's heading with a Refresh button beside it. */
export function TitleRow({ title, onRefresh }) {
  return (
    <div class="title-row">
      <h1>{title}</h1>
      <button type="button" class="secondary" onClick={onRefresh}>
        Refresh
      </button>
    </div>
  );
}

/**
 * A table with its caption and header row. A column named '' holds a row's actions (named for
 * screen readers only); when `count` is 0, `empty` stands in a row of its own.
 */
export function DataTable({ caption, columns, count, empty, class: cls, children }) {
  return (
    <table class={cls}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c, i) => (
            <th scope="col" key={i}>
              {c || <span class="sr-only">Actions</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {count === 0 && (
          <tr>
            <td colSpan={columns.length} class="muted">
              {empty}
            </td>
          </tr>
        )}
        {children}
      </tbody>
    </table>
  );
}

/**
 * A list read page by page. `load(cursor)` resolves to {items, next} (next null at the end), or
 * to null when there is nothing to read yet. The first page is read whenever `deps` change
 * (items is null while it loads); more() appends the next one.
 */
export function usePagedList(load, deps) {
  const [items, setItems] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    setItems(null);
    setError('');
    load(undefined)
      .then((p) => {
        if (!live || p === null) return;
        setItems(p.items);
        setNext(p.next);
      })
      .catch((e) => {
        if (!live) return;
        setItems([]);
        setNext(null);
        setError(e.message);
      });
    return () => {
      live = false;
    };
  }, deps);
  const more = async () => {
    setBusy(true);
    try {
      const p = await load(next);
      setItems((xs) => [...xs, ...p.items]);
      setNext(p.next);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return { items, next, error, setError, busy, more };
}

/** "More", while a paged list has a next page. */
export function MoreButton({ list }) {
  if (!list.next) return null;
  return (
    <p>
      <button type="button" class="secondary" onClick={list.more} disabled={list.busy}>
        More
      </button>
    </p>
  );
}
