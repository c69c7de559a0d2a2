// History-API routing under /ui/. The location is the app's state: views read their query from
// it, so every view can be bookmarked or pasted.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

const listeners = new Set();
const current = () => ({ path: location.pathname, search: location.search });

/** Goes to `url` (a path under /ui/, with a query if any), without reloading. */
export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  listeners.forEach((fn) => fn());
}

addEventListener('popstate', () => listeners.forEach((fn) => fn()));

/** The current location; re-renders the caller when it changes. */
export function useLocation() {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => listeners.delete(update);
  }, []);
  return loc;
}

/** The query parameters of a search string, as a plain object. */
export const params = (search) => Object.fromEntries(new URLSearchParams(search));

// A plain click on an in-app link navigates without a reload; modified clicks (new tab) and
// links elsewhere are left to the browser.
function onClick(e) {
  const href = e.currentTarget.getAttribute('href');
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (!href || !href.startsWith(BASE + '/')) return;
  e.preventDefault();
  navigate(href);
}

/** An <a> for a path in the app. */
export function Link(props) {
  return h('a', { ...props, onClick });
}

/** The link to an object's page. */
export const objectHref = (id) => `${BASE}/objects/${encodeURIComponent(id)}`;
