// The node's HTTP API, as the UI uses it. Same origin only; the session cookie is HttpOnly, so the
// only secret the page holds is the CSRF token, which every state-changing request carries.

let csrfToken = '';
let onUnauthorized = () => {};

/** Remembers the session's CSRF token (from the session answer). */
export function setCsrfToken(token) {
  csrfToken = token || '';
}

/** Sets what happens when the server answers 401: the app goes to sign-in. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** An error answer: `message` is the server's description, fit to show to a person. */
export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export const TAXII = 'application/taxii+json;version=2.1';

// Marks the page's own requests, so that the node can answer a 401 without a Basic challenge:
// browsers answer one with a password dialog (headless Chromium waits on it for ever).
const XRW = 'XMLHttpRequest';

const isWrite = (method) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

function messageOf(status, body, statusText) {
  if (body && typeof body === 'object') {
    if (body.description) return body.description;
    if (body.title) return body.title;
  }
  if (status === 0) return 'The node could not be reached.';
  return `The node answered ${status}${statusText ? ' ' + statusText : ''}.`;
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// A 401 means the session ended (signed out elsewhere, expired, key revoked): go to sign-in,
// unless the caller handles it itself (the sign-in form and the first session check do).
function failure(status, body, statusText, retryAfter, opts) {
  if (status === 401 && !opts.allow401) onUnauthorized();
  return new ApiError(status, messageOf(status, body, statusText), retryAfter);
}

/**
 * fetch() for the JSON API. `opts.json` is sent as a JSON body; `opts.body` as is.
 * Resolves to the parsed answer (null for 204); rejects with an ApiError.
 */
export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const headers = { Accept: opts.accept || 'application/json', 'X-Requested-With': XRW, ...opts.headers };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  }
  if (isWrite(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, messageOf(0));
  }
  const data = parseJson(await res.text());
  if (!res.ok) {
    throw failure(res.status, data, res.statusText, res.headers.get('Retry-After'), opts);
  }
  return data;
}

// Reads started before the app knows who is signed in (main.jsx): a pasted link's data, fetched
// alongside the session check instead of after it. A view takes each answer once; a failed one
// (signed out, say) is asked again.
const early = new Map();

/** Starts reading `path` now, for a view that will ask for it (readOnce). */
export function prefetch(path) {
  const p = api(path, { allow401: true });
  p.catch(() => {}); // a failure is the view's to report, when it asks again
  early.set(path, p);
}

/** api(path), or the answer prefetch(path) started. */
export function readOnce(path) {
  const p = early.get(path);
  if (!p) return api(path);
  early.delete(path);
  return p.catch(() => api(path));
}

/**
 * A POST through XMLHttpRequest, for uploads: fetch() cannot report upload progress.
 * `onProgress(sent, total)` follows the body; resolves to the parsed JSON answer.
 */
export function upload(path, body, { contentType, accept, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', accept || 'application/json');
    xhr.setRequestHeader('X-Requested-With', XRW);
    if (contentType) xhr.setRequestHeader('Content-Type', contentType);
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
      xhr.upload.onload = () => onProgress(1, 1);
    }
    xhr.onload = () => {
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else
        reject(
          failure(xhr.status, data, xhr.statusText, xhr.getResponseHeader('Retry-After'), {}),
        );
    };
    xhr.onerror = () => reject(new ApiError(0, messageOf(0)));
    xhr.send(body);
  });
}

/** Builds a query string from the non-empty members of `params` ('' when none). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

/** The TAXII collections the caller may see (an empty list when it may see none). */
export async function collections() {
  const data = await api('/api/collections/', { accept: TAXII });
  return (data && data.collections) || [];
}
