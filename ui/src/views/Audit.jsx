// The node's audit log (admins and auditors): who did what, sent what to whom, and when.
// The filters live in the URL (/ui/audit?actor=alice&action=egress), so a query can be shared.
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Alert, DataTable, Loading, Time, useTitle } from '../components.jsx';
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
  const [entries, setEntries] = useState(null);
  const [next, setNext] = useState(null); // the seq to continue after, when there is more
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const fetchPage = async (filters, after) => {
    const q = { ...filters, since: sinceValue(filters.since.trim()), after, limit: PAGE };
    const a = await api('/accord/audit/' + query(q));
    return { entries: a.entries || [], next: a.more ? a.next ?? null : null };
  };

  // Runs the query in the URL whenever it changes.
  useEffect(() => {
    const filters = pick(params(search));
    setForm(filters);
    setError('');
    setEntries(null);
    let live = true;
    fetchPage(filters)
      .then((p) => {
        if (!live) return;
        setEntries(p.entries);
        setNext(p.next);
      })
      .catch((e) => {
        if (!live) return;
        setEntries([]);
        setNext(null);
        setError(e.message);
      });
    return () => {
      live = false;
    };
  }, [search]);

  const more = async () => {
    setBusy(true);
    try {
      const p = await fetchPage(pick(params(search)), next);
      setEntries((es) => [...es, ...p.entries]);
      setNext(p.next);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

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
          <div class="field" key={f.k}>
            <label for={`a-${f.k}`}>{f.label}</label>
            <input
              id={`a-${f.k}`}
              type="text"
              value={form[f.k]}
              placeholder={f.hint}
              spellcheck={false}
              autoComplete="off"
              onInput={(e) => setForm({ ...form, [f.k]: e.currentTarget.value })}
            />
          </div>
        ))}
        <div class="field">
          <button type="submit">Query</button>
        </div>
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
          {next !== null && (
            <p>
              <button type="button" class="secondary" onClick={more} disabled={busy}>
                More
              </button>
            </p>
          )}
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
