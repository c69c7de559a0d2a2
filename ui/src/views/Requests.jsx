// Points-of-contact requests (docs/REQUESTS.md): the inbox (received from peers) and the outbox
// (sent to them), with their deadlines counting down and the steps the caller may take now.
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Alert, Loading, Time, useTitle, TitleRow, DataTable } from '../components.jsx';
import { duration } from '../format.js';
import { BASE, Link, navigate, objectHref, params } from '../router.js';

// Each step the server may offer, and its button's label.
const STEP_LABEL = { acknowledged: 'Acknowledge', answered: 'Reply', declined: 'Decline', closed: 'Close' };

const BOXES = [
  { box: 'in', label: 'Inbox' },
  { box: 'out', label: 'Outbox' },
];

export function Requests({ search }) {
  useTitle('Requests');
  const box = params(search).box === 'out' ? 'out' : 'in';
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  const [now, setNow] = useState(Date.now());

  const load = () => {
    setError('');
    api('/api/ui/v1/requests')
      .then((a) => setList(a.requests || []))
      .catch((e) => {
        setList((l) => l || []);
        setError(e.message);
      });
  };
  useEffect(load, []);

  // The countdowns move on every 30 seconds (the data itself is read again only on Refresh:
  // every read is an audit entry).
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30000);
    return () => clearInterval(t);
  }, []);

  const replace = (r) => setList((l) => l.map((x) => (x.id === r.id ? r : x)));
  const shown = (list || []).filter((r) => r.direction === box);
  const label = BOXES.find((b) => b.box === box).label;

  return (
    <>
      <TitleRow title="Requests" onRefresh={load} />
      <Tabs box={box} />
      <Alert>{error}</Alert>
      <div role="tabpanel" id="requests-panel" aria-labelledby={`tab-${box}`}>
        {list === null ? (
          <Loading />
        ) : (
          <RequestTable caption={label} requests={shown} now={now} onChanged={replace} onError={setError} />
        )}
      </div>
    </>
  );
}

// Inbox / Outbox, as the WAI-ARIA tabs pattern: arrow keys move between them.
function Tabs({ box }) {
  const refs = { in: useRef(null), out: useRef(null) };
  const go = (b) => navigate(`${BASE}/requests${b === 'out' ? '?box=out' : ''}`, { replace: true });
  const onKeyDown = (e) => {
    const other = box === 'in' ? 'out' : 'in';
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) {
      e.preventDefault();
      const to = e.key === 'Home' ? 'in' : e.key === 'End' ? 'out' : other;
      go(to);
      refs[to].current.focus();
    }
  };
  return (
    <div role="tablist" aria-label="Requests" class="tabs">
      {BOXES.map((b) => (
        <button
          key={b.box}
          ref={refs[b.box]}
          type="button"
          role="tab"
          id={`tab-${b.box}`}
          aria-selected={box === b.box ? 'true' : 'false'}
          aria-controls="requests-panel"
          tabIndex={box === b.box ? 0 : -1}
          onClick={() => go(b.box)}
          onKeyDown={onKeyDown}
        >
          {b.label}
        </button>
      ))}
    </div>
  );
}

function RequestTable({ caption, requests, now, onChanged, onError }) {
  const [open, setOpen] = useState(null); // the request whose details are shown
  const [replying, setReplying] = useState(null); // the request being answered
  const [busy, setBusy] = useState(false);

  const step = async (r, stepName, text = '') => {
    onError('');
    setBusy(true);
    try {
      const updated = await api(`/api/ui/v1/requests/${encodeURIComponent(r.id)}/steps`, {
        method: 'POST',
        json: { step: stepName, text },
      });
      onChanged(updated);
      if (stepName === 'answered') setReplying(null);
      // The button pressed may be gone now: focus goes back to the row (its subject).
      requestAnimationFrame(() => {
        const subject = document.getElementById(`subject-${r.id}`);
        if (subject) subject.focus();
      });
    } catch (e) {
      onError(e.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <DataTable
      class="requests"
      caption={caption}
      columns={['Subject', 'Peer', 'Kind', 'Urgency', 'State', 'Deadline', '']}
      count={requests.length}
      empty={`No requests in the ${caption.toLowerCase()}.`}
    >
        {requests.map((r) => {
          const d = deadline(r, now);
          return (
            <Fragment key={r.id}>
              <tr class={d.overdue ? 'overdue' : undefined}>
                <td>
                  <button
                    type="button"
                    class="link"
                    id={`subject-${r.id}`}
                    aria-expanded={open === r.id ? 'true' : 'false'}
                    onClick={() => setOpen(open === r.id ? null : r.id)}
                  >
                    {r.subject || '(no subject)'}
                  </button>
                </td>
                <td class="nowrap">{r.peer}</td>
                <td>{(r.kind || '').replace(/-/g, ' ')}</td>
                <td>
                  <span class={`badge urgency-${r.urgency}`}>{r.urgency}</span>
                </td>
                <td>{r.state}</td>
                <td>
                  {d.overdue && <span class="badge overdue-word">Overdue</span>} {d.text}
                  {d.at && (
                    <div class="muted small">
                      due <Time value={d.at} />
                    </div>
                  )}
                  {r.escalation > 0 && <div class="muted small">escalated {r.escalation}×</div>}
                </td>
                <td class="actions">
                  {(r.actions || []).map((a) => (
                    <button
                      key={a}
                      type="button"
                      class={a === 'declined' ? 'secondary' : undefined}
                      disabled={busy}
                      aria-label={`${STEP_LABEL[a] || a}: ${r.subject}`}
                      aria-expanded={a === 'answered' ? (replying === r.id ? 'true' : 'false') : undefined}
                      onClick={() => (a === 'answered' ? setReplying(replying === r.id ? null : r.id) : step(r, a))}
                    >
                      {STEP_LABEL[a] || a}
                    </button>
                  ))}
                </td>
              </tr>
              {replying === r.id && (
                <tr class="subrow">
                  <td colSpan={7}>
                    <ReplyForm busy={busy} onSend={(text) => step(r, 'answered', text)} onCancel={() => setReplying(null)} />
                  </td>
                </tr>
              )}
              {open === r.id && (
                <tr class="subrow">
                  <td colSpan={7}>
                    <Details r={r} />
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
    </DataTable>
  );
}

function ReplyForm({ busy, onSend, onCancel }) {
  const [text, setText] = useState('');
  const area = useRef(null);
  useEffect(() => area.current && area.current.focus(), []);
  const submit = (e) => {
    e.preventDefault();
    onSend(text);
  };
  return (
    <form class="stack reply" onSubmit={submit}>
      <div class="field">
        <label for="reply-text">Reply text</label>
        <textarea id="reply-text" ref={area} rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </div>
      <div class="buttons">
        <button type="submit" disabled={busy}>
          Send reply
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Details({ r }) {
  const who = r.responsible;
  return (
    <div class="details">
      {r.description && <p class="text">{r.description}</p>}
      <dl class="props">
        {r.action && (
          <>
            <dt>Asked to</dt>
            <dd>{r.action}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <Time value={r.created} />
        </dd>
        {r.about && r.about.length > 0 && (
          <>
            <dt>About</dt>
            <dd>
              {r.about.map((id) => (
                <div key={id}>
                  <Link href={objectHref(id)} class="id">
                    {id}
                  </Link>
                </div>
              ))}
            </dd>
          </>
        )}
        {who && (
          <>
            <dt>Responsible</dt>
            <dd>{[who.name, who.email, who.phone].filter(Boolean).join(' · ')}</dd>
          </>
        )}
        <dt>Id</dt>
        <dd>
          <code class="id">{r.id}</code>
        </dd>
      </dl>
      {r.history && r.history.length > 0 && (
        <ol class="history">
          {r.history.map((h, i) => (
            <li key={h.id || i}>
              <Time value={h.at} /> <strong>{h.step}</strong> by {h.by}
              {h.to && <> to {h.to}</>}
              {h.text && <div class="text">{h.text}</div>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

// What the request waits for now, and how long is left: an acknowledgement until it has one,
// then the response; nothing once answered, declined or closed.
function deadline(r, now) {
  const overdue = r.overdue || {};
  let at = '';
  let verb = '';
  let late = false;
  let noun = '';
  if ((r.state === 'sent' || r.state === 'received') && r.ack_by) {
    [at, verb, noun, late] = [r.ack_by, 'acknowledge', 'acknowledgement', overdue.ack];
  } else if ((r.state === 'sent' || r.state === 'received' || r.state === 'acknowledged') && r.respond_by) {
    [at, verb, noun, late] = [r.respond_by, 'respond', 'response', overdue.response];
  } else {
    return { text: '—', overdue: false, at: '' };
  }
  const left = new Date(at).getTime() - now;
  if (isNaN(left)) return { text: `${verb} by ${at}`, overdue: !!late, at: '' };
  if (left <= 0 || late) {
    return { text: left < 0 ? `${noun} overdue by ${duration(left)}` : `${noun} overdue`, overdue: true, at };
  }
  return { text: `${verb} within ${duration(left)}`, overdue: false, at };
}
