// Search by value: an address, CIDR, domain, URL, e-mail address, hash or CVE id (defanged or
// not). The query lives in the URL (/ui/search?value=V&type=T&collection=C), so it can be pasted.
import { useEffect, useState } from 'preact/hooks';
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

export function Search({ search }) {
  useTitle('Search');
  const q = params(search);
  const [form, setForm] = useState({ value: q.value || '', type: q.type || '', collection: q.collection || '' });
  const [colls, setColls] = useState([]);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    collections()
      .then((cs) => setColls(cs.filter((c) => c.can_read !== false)))
      .catch(() => setColls([])); // the search still works over every collection
  }, []);

  // Runs the search in the URL whenever it changes (a submit, the back button, a pasted link).
  useEffect(() => {
    setForm({ value: q.value || '', type: q.type || '', collection: q.collection || '' });
    setAnswer(null);
    setError('');
    if (!q.value) return;
    let live = true;
    setBusy(true);
    api('/api/ui/v1/search' + query({ value: q.value, type: q.type, collection: q.collection }))
      .then((a) => live && setAnswer(a))
      .catch((e) => live && setError(e.message))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [search]);

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    if (!form.value.trim()) {
      setError('Enter a value to search for.');
      return;
    }
    navigate(`${BASE}/search` + query({ ...form, value: form.value.trim() }));
  };

  return (
    <>
      <h1>Search</h1>
      <form role="search" class="toolbar" onSubmit={submit}>
        <TextField
          grow
          id="s-value"
          label="Value"
          type="search"
          value={form.value}
          onInput={set('value')}
          placeholder="198.51.100.7, evil[.]example, a hash, CVE-2024-1234"
        />
        <div class="field">
          <label for="s-type">Type</label>
          <select id="s-type" value={form.type} onChange={set('type')}>
            <option value="">any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="s-collection">Collection</label>
          <select id="s-collection" value={form.collection} onChange={set('collection')}>
            <option value="">all</option>
            {colls.map((c) => (
              <option key={c.id} value={c.alias || c.id}>
                {c.title || c.alias || c.id}
              </option>
            ))}
            {/* A collection named in the URL that the list does not hold stays selectable. */}
            {form.collection && !colls.some((c) => (c.alias || c.id) === form.collection) && (
              <option value={form.collection}>{form.collection}</option>
            )}
          </select>
        </div>
        <SubmitField label="Search" />
      </form>
      <Alert>{error}</Alert>
      {!q.value && !error && (
        <p class="muted">
          Find the objects that hold a value: an IPv4 or IPv6 address or CIDR, a domain, a URL, an e-mail address, an
          MD5/SHA-1/SHA-256/SHA-512 hash or a CVE id. Defanged values (<code>hxxp://evil[.]example</code>) are fine.
        </p>
      )}
      {busy && <Loading />}
      {answer && <Results answer={answer} />}
    </>
  );
}

function Results({ answer }) {
  const { results = [], more, query: qv = {} } = answer;
  const kind = KINDS[qv.kind] || qv.kind;
  if (!results.length)
    return (
      <p class="empty">
        No objects hold this value.{' '}
        {kind && (
          <span class="muted">
            (searched for the {kind} <code>{qv.value}</code>)
          </span>
        )}
      </p>
    );
  return (
    <>
      <p class="muted">
        {results.length} {results.length === 1 ? 'object holds' : 'objects hold'} the {kind}{' '}
        <code>{qv.value}</code>
        {more && '; more exist: narrow the search by type or collection'}.
      </p>
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
    </>
  );
}
