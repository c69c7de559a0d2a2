// A collection's indicators, with their state (active, expiring, expired, revoked) and what each
// pattern matches in words. The filters live in the URL
// (/ui/indicators?collection=C&state=expiring&q=emotet), so a list can be shared.
import { useEffect, useState } from 'preact/hooks';
import { api, collections, query } from '../api.js';
import { Alert, DataTable, Loading, Marking, SubmitField, TextField, MoreButton, usePagedList, useTitle } from '../components.jsx';
import { BASE, Link, navigate, objectHref, params } from '../router.js';
import { explainPattern } from '../stix.js';

const STATES = [
  ['all', 'All'],
  ['active', 'Active'],
  ['expiring', 'Expiring'],
  ['expired', 'Expired'],
  ['revoked', 'Revoked'],
];
const PAGE = 50;

const pick = (q) => ({
  collection: q.collection || '',
  state: q.state || 'all',
  within: q.within || '7',
  q: q.q || '',
});

export function Indicators({ search }) {
  useTitle('Indicators');
  const [form, setForm] = useState(pick(params(search)));
  const [colls, setColls] = useState(null);
  const [collsError, setCollsError] = useState('');

  useEffect(() => {
    collections()
      .then((cs) => setColls(cs.filter((c) => c.can_read !== false)))
      .catch((e) => {
        setColls([]);
        setCollsError(e.message);
      });
  }, []);

  // The collection in the URL, or the first one the person may read.
  const chosen = (f) => f.collection || (colls && colls.length ? colls[0].alias || colls[0].id : '');

  // Lists again whenever the URL changes (a submit, the back button, a pasted link).
  const fetchPage = async (cursor) => {
    const f = pick(params(search));
    if (colls === null) return null; // the collections are not known yet
    if (!chosen(f)) return { items: [], next: null };
    const a = await api(
      '/api/ui/v1/indicators' +
        query({
          collection: chosen(f),
          state: f.state === 'all' ? '' : f.state,
          within: f.state === 'expiring' ? f.within : '',
          q: f.q.trim(),
          limit: PAGE,
          cursor,
        }),
    );
    return { items: a.indicators, next: a.more ? a.next : null };
  };
  const list = usePagedList(fetchPage, [search, colls]);
  const { items: rows, next, error } = list;
  useEffect(() => setForm(pick(params(search))), [search]);

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    const f = { ...form, collection: chosen(form), q: form.q.trim() };
    navigate(
      `${BASE}/indicators` +
        query({
          collection: f.collection,
          state: f.state === 'all' ? '' : f.state,
          within: f.state === 'expiring' && f.within !== '7' ? f.within : '',
          q: f.q,
        }),
    );
  };

  return (
    <>
      <h1>Indicators</h1>
      <form class="toolbar" onSubmit={submit} aria-label="Filter indicators">
        <div class="field">
          <label for="i-collection">Collection</label>
          <select id="i-collection" value={chosen(form)} onChange={set('collection')}>
            {(colls || []).map((c) => (
              <option key={c.id} value={c.alias || c.id}>
                {c.title || c.alias || c.id}
              </option>
            ))}
            {form.collection && colls && !colls.some((c) => (c.alias || c.id) === form.collection) && (
              <option value={form.collection}>{form.collection}</option>
            )}
          </select>
        </div>
        <div class="field">
          <label for="i-state">State</label>
          <select id="i-state" value={form.state} onChange={set('state')}>
            {STATES.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {form.state === 'expiring' && (
          <div class="field">
            <label for="i-within">Within (days)</label>
            <input id="i-within" type="number" min="1" max="3650" value={form.within} onInput={set('within')} />
          </div>
        )}
        <TextField
          grow
          id="i-q"
          label="Text"
          type="search"
          value={form.q}
          onInput={set('q')}
          placeholder="in names, descriptions and patterns"
        />
        <SubmitField label="Show" />
      </form>
      <Alert>{error || collsError}</Alert>
      {rows === null ? (
        <Loading />
      ) : (
        <>
          <DataTable
            class="indicators"
            caption={`Indicators in ${chosen(pick(params(search))) || 'no collection'}`}
            columns={['Name', 'State', 'Pattern', 'Valid until', 'Markings']}
            count={rows.length}
            empty="No indicators match."
          >
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link href={objectHref(r.id)}>{r.name || r.id}</Link>
                </td>
                <td>
                  <span class={`badge state-${r.state}`}>{r.state}</span>
                </td>
                <td>
                  <code class="pattern">{r.pattern}</code>
                  {r.pattern_type === 'stix' && explainPattern(r.pattern) && (
                    <div class="muted small">{explainPattern(r.pattern)}</div>
                  )}
                </td>
                <td class="nowrap">{r.valid_until || <span class="muted">none</span>}</td>
                <td>
                  {r.markings.map((m) => (
                    <Marking key={m} id={m} />
                  ))}
                </td>
              </tr>
            ))}
          </DataTable>
          <p class="muted">
            {rows.length.toLocaleString('en')} shown{next ? '; there are more.' : '.'}
          </p>
          <MoreButton list={list} />
        </>
      )}
    </>
  );
}
