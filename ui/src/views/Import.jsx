// Upload intelligence into a collection: STIX bundles through TAXII (add objects), MISP events,
// lists and free text through /api/ui/v1/import. Each refused record is listed with its reason.
import { useEffect, useState } from 'preact/hooks';
import { api, collections, query, TAXII, upload } from '../api.js';
import { Alert, Loading, useTitle } from '../components.jsx';

const FORMATS = [
  { id: 'stix', label: 'STIX bundle' },
  { id: 'misp', label: 'MISP event' },
  { id: 'list', label: 'List' },
  { id: 'text', label: 'Free text' },
];

// The objects of a STIX bundle, an envelope ({"objects": [...]}), a list of objects or one
// object; null when `json` is none of these.
function stixObjects(json) {
  if (Array.isArray(json)) return json;
  if (json && typeof json === 'object') {
    if (Array.isArray(json.objects)) return json.objects;
    if (json.type && json.type !== 'bundle' && json.id) return [json];
  }
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function Import() {
  useTitle('Import');
  const [colls, setColls] = useState(null);
  const [formats, setFormats] = useState(FORMATS);
  const [form, setForm] = useState({ collection: '', format: 'stix', paste: '' });
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null); // {sent, total} while uploading, then {done}
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');

  useEffect(() => {
    collections()
      .then((cs) => {
        const writable = cs.filter((c) => c.can_write);
        setColls(writable);
        if (writable.length) setForm((f) => ({ ...f, collection: f.collection || writable[0].id }));
      })
      .catch((e) => {
        setColls([]);
        setError(e.message);
      });
  }, []);

  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const onProgress = (sent, total) => setProgress({ sent, total });

  // STIX: parsed here, sent as a TAXII envelope; the answer is a status resource.
  const importStix = async (text) => {
    let body = text;
    try {
      const objects = stixObjects(JSON.parse(text));
      if (!objects) throw new Error('This is JSON, but neither a STIX bundle nor a list of STIX objects.');
      body = JSON.stringify({ objects });
    } catch (e) {
      // Not JSON: the node's answer says what is wrong with it, in its own words.
      if (!(e instanceof SyntaxError)) throw e;
    }
    const base = `/api/collections/${encodeURIComponent(form.collection)}/objects/`;
    let status = await upload(base, body, { contentType: TAXII, accept: TAXII, onProgress });
    // A node may still be working on it: ask again for a while.
    for (let i = 0; i < 30 && status.status === 'pending' && status.id; i++) {
      await sleep(1000);
      status = await api(`/api/status/${encodeURIComponent(status.id)}/`, { accept: TAXII });
    }
    const failures = status.failures || [];
    return {
      accepted: status.success_count || 0,
      rejected: status.failure_count ?? failures.length,
      pending: status.pending_count || 0,
      rows: failures.map((f) => ({ record: f.id || '(no id)', reason: f.message })),
    };
  };

  const importOther = async (body, name) => {
    const url = '/api/ui/v1/import' + query({ collection: form.collection, format: form.format, name });
    let a;
    try {
      a = await upload(url, body, { contentType: 'application/octet-stream', onProgress });
    } catch (e) {
      // A node without the import endpoint answers 404 to it (one that has it answers a GET with
      // 405): then only STIX is offered.
      if (e.status === 404) {
        const missing = await api('/api/ui/v1/import').catch((g) => g.status === 404);
        if (missing === true) {
          setFormats(FORMATS.slice(0, 1));
          setForm((f) => ({ ...f, format: 'stix' }));
          throw new Error('This node imports STIX bundles only.');
        }
      }
      throw e;
    }
    const rows = (a.rejected || []).map((r) => ({ record: r.record || r.id, reason: r.reason }));
    return {
      accepted: a.accepted || 0,
      rejected: a.rejected_count ?? rows.length,
      rows,
      extra: a,
    };
  };

  const submit = async (e) => {
    e.preventDefault();
    setError('');
    setResult(null);
    if (!form.collection) return setError('Choose a collection to import into.');
    if (!file && !form.paste.trim()) return setError('Choose a file, or paste its content.');
    setProgress({ sent: 0, total: 0 });
    try {
      const r =
        form.format === 'stix'
          ? await importStix(file ? await file.text() : form.paste)
          : await importOther(file || form.paste, file ? file.name : 'pasted');
      setResult(r);
    } catch (err) {
      setError(err.message);
    } finally {
      setProgress(null);
    }
  };

  if (colls === null)
    return (
      <>
        <Heading />
        <Loading />
      </>
    );
  return (
    <>
      <Heading />
      {colls.length === 0 && !error && <p>You may write to no collection; an administrator can grant it.</p>}
      <form class="stack import" onSubmit={submit}>
        <div class="row">
          <div class="field">
            <label for="i-collection">Collection</label>
            <select id="i-collection" value={form.collection} onChange={set('collection')}>
              {colls.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title || c.alias || c.id}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="i-format">Format</label>
            <select id="i-format" value={form.format} onChange={set('format')}>
              {formats.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div class="field">
          <label for="i-file">File</label>
          <input id="i-file" type="file" onChange={(e) => setFile(e.currentTarget.files[0] || null)} />
        </div>
        <div class="field">
          <label for="i-paste">Or paste</label>
          <textarea id="i-paste" rows={8} spellcheck={false} value={form.paste} onInput={set('paste')} />
        </div>
        <div>
          <button type="submit" disabled={!!progress || colls.length === 0}>
            Import
          </button>
        </div>
      </form>
      {progress && <Progress {...progress} />}
      <Alert>{error}</Alert>
      {result && <Result r={result} />}
    </>
  );
}

function Heading() {
  return <h1>Import</h1>;
}

// The upload's progress, then (once the body is sent) an indeterminate bar while the node works.
function Progress({ sent, total }) {
  const done = total > 0 && sent >= total;
  return (
    <div class="progress">
      <label for="i-progress">{done ? 'Importing…' : 'Uploading…'}</label>
      {total > 0 && !done ? <progress id="i-progress" max={total} value={sent} /> : <progress id="i-progress" />}
    </div>
  );
}

function Result({ r }) {
  const x = r.extra;
  return (
    <section aria-labelledby="h-result" class="result">
      <h2 id="h-result">Result</h2>
      <p role="status">
        <strong>
          {r.accepted} accepted, {r.rejected} rejected
        </strong>
        {r.pending > 0 && `, ${r.pending} pending`}
        {x && (
          <span class="muted">
            {' '}
            ({x.added ?? 0} added, {x.duplicates ?? 0} duplicates, {x.already_stored ?? 0} already stored,{' '}
            {x.warninglisted ?? 0} on a warninglist)
          </span>
        )}
      </p>
      {r.rows.length > 0 && (
        <table>
          <caption>Rejected records</caption>
          <thead>
            <tr>
              <th scope="col">Record</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {r.rows.map((row, i) => (
              <tr key={i}>
                <td>
                  <code class="id">{row.record}</code>
                </td>
                <td>{row.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.rows.length < r.rejected && <p class="muted">The first {r.rows.length} rejected records are listed.</p>}
    </section>
  );
}
