// Search by value (an address, CIDR, domain, URL, e-mail address, hash or CVE id, defanged or
// not), by words of names and descriptions, and by type, collection, marking and modified time.
// The query lives in the URL (/ui/search?q=Q&type=T&collection=C&marking=M&since=D&until=D;
// value=V for a value only), so it can be pasted.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, collections, query } from '../api.js';
import { Alert, Loading, SubmitField, TextField, Time, useTitle } from '../components.jsx';
import { BASE, Link, navigate, objectHref, params } from '../router.js';

// The STIX types a search can be narrowed to ('' is any).
const TYPES = [
  'indicator',
  'observed-data',
  'sighting',
  'report',
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'email-addr',
  'file',
  'vulnerability',
  'malware',
  'infrastructure',
];

const KINDS = {
  ipv4: 'IPv4 address',
  ipv6: 'IPv6 address',
  cidr: 'CIDR',
  domain: 'domain',
  url: 'URL',
  email: 'e-mail address',
  cve: 'CVE id',
};

// The filters a search takes from the URL, besides the words or value.
const FILTERS = ['type', 'collection', 'marking', 'since', 'until'];
const MARKINGS = ['clear', 'green', 'amber', 'amber+strict', 'red'];

function formOf(q) {
  const f = { q: q.q || q.value || '' };
  for (const k of FILTERS) f[k] = q[k] || '';
  return f;
}

export function Search({ search }) {
  useTitle('Search');
  const q = params(search);
  const [form, setForm] = useState(formOf(q));
  const [colls, setColls] = useState([]);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    collections()
      .then((cs) => setColls(cs.filter((c) => c.can_read !== false)))
      .catch(() => setColls([])); // the search still works over every collection
  }, []);

  // What the URL asks for: value= (a value only), or q= (a value or words), and the filters.
  const asked = { value: q.value, q: q.q };
  for (const k of FILTERS) asked[k] = q[k];
  const anything = Object.values(asked).some((v) => v);

  // Runs the search in the URL whenever it changes (a submit, the back button, a pasted link).
  // The form takes the URL's values when the URL changes, not on the first run: useState has
  // them already, and effects run a frame after the first render, so resetting the form there
  // dropped what someone typed in that frame (a browser test under CI's load did).
  const mounted = useRef(false);
  useEffect(() => {
    if (mounted.current) setForm(formOf(q));
    mounted.current = true;
    setAnswer(null);
    setError('');
    if (!anything) return;
    let live = true;
    setBusy(true);
    api('/api/ui/v1/search' + query(asked))
      .then((a) => live && setAnswer(a))
      .catch((e) => live && setError(e.message))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [search]);

  // The next page of a search by words or filters, added below the results.
  const more = () => {
    setBusy(true);
    api('/api/ui/v1/search' + query({ ...asked, cursor: answer.next }))
      .then((a) => setAnswer({ ...a, results: [...answer.results, ...a.results] }))
      .catch((e) => setError(e.message))
      .finally(() => setBusy(false));
  };

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    const f = { ...form, q: form.q.trim() };
    if (!Object.values(f).some((v) => v)) {
      setError('Enter a value or words, or choose a filter.');
      return;
    }
    navigate(`${BASE}/search` + query(f));
  };

  const select = (k, label, options, any) => (
    <div class="field">
      <label for={`s-${k}`}>{label}</label>
      <select id={`s-${k}`} value={form[k]} onChange={set(k)}>
        <option value="">{any}</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
        {/* A value named in the URL that the list does not hold stays selectable. */}
        {form[k] && !options.some(([value]) => value === form[k]) && <option value={form[k]}>{form[k]}</option>}
      </select>
    </div>
  );

  return (
    <>
      <h1>Search</h1>
      <form role="search" class="toolbar" onSubmit={submit}>
        <TextField
          grow
          id="s-value"
          label="Value or words"
          type="search"
          value={form.q}
          onInput={set('q')}
          placeholder="198.51.100.7, evil[.]example, a hash, CVE-2024-1234, or words: cobalt strike"
        />
        {select('type', 'Type', TYPES.map((t) => [t, t]), 'any')}
        {select('collection', 'Collection', colls.map((c) => [c.alias || c.id, c.title || c.alias || c.id]), 'all')}
        {select('marking', 'Marking', MARKINGS.map((m) => [m, `TLP:${m.toUpperCase()}`]), 'any')}
        <TextField id="s-since" label="Modified from" type="date" value={form.since} onInput={set('since')} />
        <TextField id="s-until" label="Modified before" type="date" value={form.until} onInput={set('until')} />
        <SubmitField label="Search" />
      </form>
      <Alert>{error}</Alert>
      {!anything && !error && (
        <p class="muted">
          Find the objects that hold a value: an IPv4 or IPv6 address or CIDR, a domain, a URL, an e-mail address, an
          MD5/SHA-1/SHA-256/SHA-512 hash or a CVE id. Defanged values (<code>hxxp://evil[.]example</code>) are fine.
          Other words are looked for in names and descriptions (all of them; <code>phish*</code> for a prefix). Or
          leave it empty and list by type, collection, marking and time, newest first.
        </p>
      )}
      {answer && <Results answer={answer} onMore={more} busy={busy} />}
      {busy && <Loading />}
    </>
  );
}

function Results({ answer, onMore, busy }) {
  const { results = [], more, next, reached, query: qv = {} } = answer;
  const byValue = qv.kind !== 'words' && qv.kind !== 'filters';
  const kind = KINDS[qv.kind] || qv.kind;
  const pages = !byValue && more && next;
  if (!results.length && !pages)
    return byValue ? (
      <p class="empty">
        No objects hold this value.{' '}
        {kind && (
          <span class="muted">
            (searched for the {kind} <code>{qv.value}</code>)
          </span>
        )}
      </p>
    ) : (
      <p class="empty">No objects match.</p>
    );
  return (
    <>
      {byValue ? (
        <p class="muted">
          {results.length} {results.length === 1 ? 'object holds' : 'objects hold'} the {kind} <code>{qv.value}</code>
          {more && '; more exist: narrow the search by type or collection'}.
        </p>
      ) : (
        <p class="muted">
          {results.length} {results.length === 1 ? 'object' : 'objects'}, newest first
          {qv.kind === 'words' && (
            <>
              , with the words <code>{qv.words}</code>
            </>
          )}
          {pages && (
            <>
              ; searched back to objects stored <Time value={reached} />
            </>
          )}
          .
        </p>
      )}
      <table>
        <caption>Results</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Modified</th>
            <th scope="col">Collections</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => (
            <tr key={r.id}>
              <td>
                <Link href={objectHref(r.id)}>{r.name || r.id}</Link>
                {r.revoked && <span class="badge revoked">revoked</span>}
              </td>
              <td>{r.type}</td>
              <td>
                <Time value={r.modified} />
              </td>
              <td>{(r.collections || []).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages && (
        <p>
          <button type="button" class="secondary" onClick={onMore} disabled={busy}>
            More
          </button>
        </p>
      )}
    </>
  );
}
