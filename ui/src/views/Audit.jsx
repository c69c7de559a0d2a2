// The node's audit log (admins and auditors): who did what, sent what to whom, and when.
// The filters live in the URL (/ui/audit?actor=alice&action=egress), so a query can be shared.
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Alert, DataTable, Loading, SubmitField, TextField, Time, MoreButton, usePagedList, useTitle } from '../components.jsx';
import { BASE, Link, navigate, objectHref, params } from '../router.js';

const FILTERS = [
  { k: 'actor', label: 'Actor', hint: 'alice, or user:alice' },
  { k: 'action', label: 'Action', hint: 'import, egress, request.acknowledged…' },
  { k: 'object', label: 'Object', hint: 'an object id' },
  { k: 'peer', label: 'Peer', hint: 'a peer name' },
  { k: 'since', label: 'Since', hint: 'RFC 3339, e.g. 2026-01-15T09:00:00Z, or a date' },
];
const PAGE = 100;

// "2026-01-15" means the start of that day, in UTC.
const sinceValue = (s) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);

const pick = (q) => Object.fromEntries(FILTERS.map((f) => [f.k, q[f.k] || '']));

export function Audit({ search, canOpen }) {
  useTitle('Audit');
  const [form, setForm] = useState(pick(params(search)));
  const fetchPage = async (after) => {
    const filters = pick(params(search));
    const q = { ...filters, since: sinceValue(filters.since.trim()), after, limit: PAGE };
    const a = await api('/accord/audit/' + query(q));
    return { items: a.entries || [], next: a.more ? a.next ?? null : null };
  };
  // Runs the query in the URL whenever it changes.
  const list = usePagedList(fetchPage, [search]);
  const { items: entries, error } = list;
  useEffect(() => setForm(pick(params(search))), [search]);

  const submit = (e) => {
    e.preventDefault();
    const trimmed = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()]));
    navigate(`${BASE}/audit` + query(trimmed));
  };

  return (
    <>
      <h1>Audit</h1>
      <form class="toolbar" onSubmit={submit} aria-label="Audit query">
        {FILTERS.map((f) => (
          <TextField
            key={f.k}
            id={`a-${f.k}`}
            label={f.label}
            value={form[f.k]}
            placeholder={f.hint}
            onInput={(e) => setForm({ ...form, [f.k]: e.currentTarget.value })}
          />
        ))}
        <SubmitField label="Query" />
      </form>
      <Alert>{error}</Alert>
      {entries === null ? (
        <Loading />
      ) : (
        <>
          <DataTable
            class="audit"
            caption="Entries"
            columns={['Seq', 'Time', 'Actor', 'Action', 'Detail']}
            count={entries.length}
            empty="No entries match."
          >
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td class="num">{e.seq}</td>
                  <td class="nowrap">
                    <Time value={e.time} />
                  </td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    <Detail e={e} canOpen={canOpen} />
                  </td>
                </tr>
              ))}
          </DataTable>
          <MoreButton list={list} />
        </>
      )}
    </>
  );
}

function Detail({ e, canOpen }) {
  const objects = e.objects || [];
  const facts = [
    e.exit && `exit ${e.exit}`,
    e.peer && `peer ${e.peer}`,
    e.collection && `collection ${e.collection}`,
  ].filter(Boolean);
  return (
    <>
      {e.detail && <div class="text">{e.detail}</div>}
      {facts.length > 0 && <div class="muted">{facts.join(' · ')}</div>}
      {objects.length > 0 && (
        <details>
          <summary>
            {objects.length} {objects.length === 1 ? 'object' : 'objects'}
          </summary>
          <ul class="plain">
            {objects.map((o, i) => {
              const [id, modified] = Array.isArray(o) ? o : [String(o.id || o), o.modified];
              return (
                <li key={i}>
                  {/* Auditors see the log, not the intelligence: no link for them. */}
                  {canOpen ? (
                    <Link href={objectHref(id)} class="id">
                      {id}
                    </Link>
                  ) : (
                    <code class="id">{id}</code>
                  )}{' '}
                  {modified && <span class="muted">{modified}</span>}
                </li>
              );
            })}
          </ul>
        </details>
      )}
    </>
  );
}
