// The node's peers (admins and auditors): each peer's health, what it is known to still have to
// send, its agreement, and, for admins, the quarantine with release and drop.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Alert, Loading, Time, useTitle, TitleRow, DataTable } from '../components.jsx';

export function Peers({ canManage }) {
  useTitle('Peers');
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');

  const load = () => {
    setError('');
    api('/api/ui/v1/peers')
      .then(setData)
      .catch((e) => {
        setData({ peers: [] });
        setError(e.message);
      });
  };
  useEffect(load, []);

  // Release or drop one entry, then read the quarantine again.
  const act = async (entry, action, keep) => {
    setError('');
    setNotice('');
    try {
      await api(`/api/ui/v1/quarantine/${entry.qid}/${action}`, {
        method: 'POST',
        json: keep ? { keep } : {},
      });
      setNotice(
        action === 'drop'
          ? `Dropped entry #${entry.qid}.`
          : `Released entry #${entry.qid}: ${entry.id} is stored.`,
      );
    } catch (e) {
      setError(`Entry #${entry.qid}: ${e.message}`);
    }
    load();
  };

  return (
    <>
      <TitleRow title="Peers" onRefresh={load} />
      <Alert>{error}</Alert>
      {notice && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      {data === null ? (
        <Loading />
      ) : (
        <>
          {data.peers.length === 0 && <p class="muted">This node has no peers.</p>}
          {data.peers.map((p) => (
            <Peer key={p.name} peer={p} />
          ))}
          {data.quarantine && (
            <Quarantine
              entries={data.quarantine}
              more={data.quarantine_more}
              canManage={canManage}
              onAct={act}
            />
          )}
        </>
      )}
    </>
  );
}

const HEALTH = { ok: 'In sync', failing: 'Failing', never: 'No round yet' };

function Peer({ peer }) {
  const headingId = `peer-${peer.name}`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {peer.name} <span class={`badge health-${peer.health}`}>{HEALTH[peer.health] || peer.health}</span>
      </h2>
      <dl class="props">
        <dt>Address</dt>
        <dd>
          <code>{peer.url}</code>
        </dd>
        <dt>Identity</dt>
        <dd>
          <code class="id">{peer.identity}</code>
        </dd>
        <dt>Quarantined</dt>
        <dd>{peer.quarantined}</dd>
      </dl>
      <DataTable
        caption={`Collections pulled from ${peer.name}`}
        columns={['Collection', 'Last success', 'Last attempt', 'Lag', 'Received', 'Last error']}
        count={peer.collections.length}
        empty="Nothing pulled yet."
      >
          {peer.collections.map((c) => (
            <tr key={c.collection} class={c.failures > 0 ? 'overdue' : undefined}>
              <td>{c.collection}</td>
              <td class="nowrap">{c.last_success ? <Time value={c.last_success} /> : 'never'}</td>
              <td class="nowrap">
                <Time value={c.last_attempt} />
              </td>
              <td>{c.caught_up ? 'caught up' : `${c.lag_objects} waiting`}</td>
              <td class="num">{c.received}</td>
              <td>
                {c.last_error ? (
                  <>
                    <div class="text">{c.last_error}</div>
                    <div class="muted small">
                      {c.failures} in a row, last <Time value={c.last_error_at} />
                    </div>
                  </>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          ))}
      </DataTable>
      {peer.agreement ? (
        <details>
          <summary>
            Agreement, version {peer.agreement.version} (set by {peer.agreement.set_by},{' '}
            <Time value={peer.agreement.set_at} />)
          </summary>
          <pre class="raw">{peer.agreement.toml}</pre>
        </details>
      ) : (
        <p class="muted">No agreement: nothing is shared with {peer.name} or taken from it.</p>
      )}
    </section>
  );
}

// A content conflict is released by keeping one of the two copies.
const KEEP = [
  ['stored', 'Keep stored copy'],
  ['quarantined', 'Keep this copy'],
];

function Quarantine({ entries, more, canManage, onAct }) {
  return (
    <section aria-labelledby="quarantine-h">
      <h2 id="quarantine-h">Quarantine</h2>
      <p class="muted">
        Versions held back by federation's checks (released only when they pass them again), and
        copies refused because the same version is stored with other content (you choose which
        copy to keep).
      </p>
      <DataTable
        caption={`Quarantined versions${more ? ' (the oldest 1,000)' : ''}`}
        columns={['#', 'Object', 'From', 'Collection', 'Received', 'Reason', ...(canManage ? [''] : [])]}
        count={entries.length}
        empty="The quarantine is empty."
      >
          {entries.map((e) => (
            <tr key={e.qid}>
              <td class="num">{e.qid}</td>
              <td>
                <code class="id">{e.id}</code>
                <div class="muted small">{e.modified}</div>
              </td>
              <td>{e.writer}</td>
              <td>{e.collection}</td>
              <td class="nowrap">
                <Time value={e.received} />
              </td>
              <td class="text">{e.reason}</td>
              {canManage && (
                <td class="actions">
                  {e.kind === 'held' ? (
                    <button
                      type="button"
                      aria-label={`Check again and release entry ${e.qid}`}
                      onClick={() => onAct(e, 'release')}
                    >
                      Check again and release
                    </button>
                  ) : (
                    KEEP.map(([keep, label]) => (
                      <button
                        key={keep}
                        type="button"
                        aria-label={`${label} of entry ${e.qid}`}
                        onClick={() => onAct(e, 'release', keep)}
                      >
                        {label}
                      </button>
                    ))
                  )}
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Drop entry ${e.qid}`}
                    onClick={() => onAct(e, 'drop')}
                  >
                    Drop
                  </button>
                </td>
              )}
            </tr>
          ))}
      </DataTable>
    </section>
  );
}
