// One object, every version the caller may read: summary, markings, signature, versions with
// what changed between them, the objects it refers to, and the raw JSON on demand.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, readOnce } from '../api.js';
import { Alert, Loading, Marking, Time, TlpBadge, useTitle } from '../components.jsx';
import { Link, objectHref } from '../router.js';
import { diff, explainPattern, references, show, tlpLevel } from '../stix.js';
import { Bars } from '../chart.jsx';

export function ObjectView({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    readOnce(`/api/ui/v1/objects/${encodeURIComponent(id)}`)
      .then(setData)
      .catch(setError);
  }, [id]);

  if (error && error.status === 404) return <NotFound />;
  if (error) return <Failed message={error.message} />;
  if (!data) return <Loading />;
  if (!data.versions || !data.versions.length) return <NotFound />;
  return <Shown data={data} />;
}

function NotFound() {
  useTitle('Not found');
  return (
    <>
      <h1>Not found</h1>
      <p>No such object, or you may not read it.</p>
    </>
  );
}

function Failed({ message }) {
  useTitle('Object');
  return (
    <>
      <h1>Object</h1>
      <Alert>{message}</Alert>
    </>
  );
}

function Shown({ data }) {
  const latest = data.versions[data.versions.length - 1];
  const obj = latest.object || {};
  const title = obj.name || data.id;
  useTitle(title);
  const [raw, setRaw] = useState(false);

  return (
    <>
      <p class="crumb muted">
        {data.type}
        {latest.revoked && <span class="badge revoked">revoked</span>}
      </p>
      <h1 class="break">{title}</h1>
      <div class="object-grid">
        <Summary obj={obj} version={latest} />
        <Markings obj={obj} />
        <Signature sig={latest.signature} />
        <Versions versions={data.versions} latest={latest} />
        <Relationships obj={obj} />
      </div>
      <Related id={data.id} />
      {data.type === 'indicator' && <SightingsOf id={data.id} />}
      <div class="raw-toggle">
        <button
          type="button"
          class="secondary"
          aria-expanded={raw ? 'true' : 'false'}
          aria-controls={raw ? 'raw-json' : undefined}
          onClick={() => setRaw(!raw)}
        >
          Show raw JSON
        </button>
      </div>
      {raw && (
        <pre id="raw-json" class="raw" tabIndex={0}>
          {JSON.stringify(obj, null, 2)}
        </pre>
      )}
    </>
  );
}

// Properties the summary shows in its own rows, in this order; the rest follow as "other".
const SHOWN = ['type', 'id', 'created', 'modified', 'revoked', 'description'];
const LEFT_OUT = new Set([
  ...SHOWN,
  'name',
  'spec_version',
  'pattern',
  'pattern_type',
  'pattern_version',
  'valid_from',
  'valid_until',
  'labels',
  'external_references',
  'object_marking_refs',
  'granular_markings',
]);

function Summary({ obj, version }) {
  const explained = obj.pattern && (!obj.pattern_type || obj.pattern_type === 'stix') ? explainPattern(obj.pattern) : null;
  // The rest of the object's own properties, references excepted (Relationships lists them).
  const other = Object.keys(obj).filter((k) => !LEFT_OUT.has(k) && !/_refs?$/.test(k));
  return (
    <section aria-labelledby="h-summary" class="area-summary">
      <h2 id="h-summary">Summary</h2>
      <dl class="props">
        <dt>Type</dt>
        <dd>{obj.type}</dd>
        <dt>ID</dt>
        <dd>
          <code class="id">{obj.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time value={obj.created} />
        </dd>
        <dt>Modified</dt>
        <dd>
          <Time value={obj.modified} />
        </dd>
        <dt>Revoked</dt>
        <dd>{obj.revoked || version.revoked ? 'Yes' : 'No'}</dd>
        {obj.description && (
          <>
            <dt>Description</dt>
            <dd class="text">{obj.description}</dd>
          </>
        )}
        {obj.pattern && (
          <>
            <dt>Pattern</dt>
            <dd>
              <code class="pattern">{obj.pattern}</code>
              {obj.pattern_type && obj.pattern_type !== 'stix' && <span class="muted"> ({obj.pattern_type})</span>}
              {explained && <p class="explain">Matches {explained}.</p>}
            </dd>
          </>
        )}
        {obj.valid_from && (
          <>
            <dt>Valid from</dt>
            <dd>
              <Time value={obj.valid_from} />
            </dd>
          </>
        )}
        {(obj.valid_from || obj.valid_until) && (
          <>
            <dt>Valid until</dt>
            <dd>{obj.valid_until ? <Time value={obj.valid_until} /> : <span class="muted">no end</span>}</dd>
          </>
        )}
        {obj.labels && obj.labels.length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>
              {obj.labels.map((l) => (
                <span key={l} class="badge">
                  {l}
                </span>
              ))}
            </dd>
          </>
        )}
        {other.map((k) => (
          <Fragment key={k}>
            <dt>{k.replace(/_/g, ' ')}</dt>
            <dd class="text">{show(obj[k])}</dd>
          </Fragment>
        ))}
        <dt>Collections</dt>
        <dd>{(version.collections || []).join(', ') || <span class="muted">none</span>}</dd>
        {obj.external_references && obj.external_references.length > 0 && (
          <>
            <dt>External references</dt>
            <dd>
              <ul class="plain">
                {obj.external_references.map((r, i) => (
                  <li key={i}>
                    <ExternalRef r={r} />
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function ExternalRef({ r }) {
  const label = [r.source_name, r.external_id].filter(Boolean).join(' ');
  // Only web addresses become links: a "javascript:" URL from a peer must not run here.
  const safe = typeof r.url === 'string' && /^https?:\/\//i.test(r.url);
  return (
    <>
      {label}
      {r.description && <span class="muted"> {r.description}</span>}
      {r.url && (
        <>
          {' '}
          {safe ? (
            <a href={r.url} rel="noopener noreferrer" target="_blank" class="break">
              {r.url}
            </a>
          ) : (
            <code class="break">{r.url}</code>
          )}
        </>
      )}
    </>
  );
}

function Markings({ obj }) {
  const refs = obj.object_marking_refs || [];
  const granular = obj.granular_markings || [];
  // A marking definition is itself marked by what it defines, when it is a TLP one.
  const own = obj.type === 'marking-definition' ? tlpLevel(obj) : null;
  return (
    <section aria-labelledby="h-markings" class="area-markings">
      <h2 id="h-markings">Markings</h2>
      {own && (
        <p>
          Defines <TlpBadge level={own} />
        </p>
      )}
      {refs.length === 0 && granular.length === 0 ? (
        <p class="muted">No markings.</p>
      ) : (
        <ul class="plain">
          {refs.map((id) => (
            <li key={id}>
              <MarkingRef id={id} />
            </li>
          ))}
          {granular.map((g, i) => (
            <li key={`g${i}`}>
              {g.marking_ref ? <MarkingRef id={g.marking_ref} /> : <span class="badge">language {g.lang}</span>}{' '}
              <span class="muted">on {(g.selectors || []).join(', ')}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// A TLP id shows as its badge; any other marking links to its definition.
function MarkingRef({ id }) {
  return tlpLevel(id) ? (
    <Marking id={id} />
  ) : (
    <Link href={objectHref(id)} class="id">
      {id}
    </Link>
  );
}

const SIG_TEXT = {
  verified: 'Verified',
  unverified: 'Not verified',
  invalid: 'Invalid signature',
  unsigned: 'Unsigned',
};

function SignatureStatus({ sig }) {
  const status = (sig && sig.status) || 'unsigned';
  return <span class={`badge sig-${status}`}>{SIG_TEXT[status] || status}</span>;
}

function Signature({ sig }) {
  sig = sig || { status: 'unsigned' };
  return (
    <section aria-labelledby="h-signature" class="area-signature">
      <h2 id="h-signature">Signature</h2>
      <p>
        <SignatureStatus sig={sig} />
      </p>
      {(sig.signer_name || sig.signer) && (
        <dl class="props">
          <dt>Signer</dt>
          <dd>
            {sig.signer_name && <div>{sig.signer_name}</div>}
            {sig.signer && (
              <Link href={objectHref(sig.signer)} class="id">
                {sig.signer}
              </Link>
            )}
          </dd>
        </dl>
      )}
      {sig.peer && <p>Received from peer {sig.peer}</p>}
      {sig.detail && <p class="muted">{sig.detail}</p>}
    </section>
  );
}

function Versions({ versions, latest }) {
  const latestStatus = (latest.signature || {}).status;
  // Newest first; each with what changed since the one before it.
  const rows = versions.map((v, i) => ({ v, prev: versions[i - 1] })).reverse();
  return (
    <section aria-labelledby="h-versions" class="area-versions">
      <h2 id="h-versions">Versions</h2>
      <ol class="versions" reversed>
        {rows.map(({ v, prev }) => (
          <li key={v.modified}>
            <div class="version-head">
              <Time value={v.modified} />
              {v.revoked && <span class="badge revoked">revoked</span>}
              <span class="muted"> in {(v.collections || []).join(', ') || 'no collection'}</span>
              {/* The Signature section has the latest version's; others are told only when they differ. */}
              {v.signature && v.signature.status !== latestStatus && (
                <span class="muted"> · signature: {SIG_TEXT[v.signature.status] || v.signature.status}</span>
              )}
            </div>
            {prev ? <Changes older={prev.object || {}} newer={v.object || {}} /> : <p class="muted">First version.</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Changes({ older, newer }) {
  const changes = diff(older, newer);
  if (!changes.length) return <p class="muted">No property changed.</p>;
  return (
    <ul class="changes">
      {changes.map((c) => (
        <li key={c.key} class={`change-${c.kind}`}>
          <span class="change-kind">{c.kind}</span> <code>{c.key}</code>:{' '}
          {c.kind === 'added' && <Val v={c.to} />}
          {c.kind === 'removed' && <Val v={c.from} del />}
          {c.kind === 'changed' && (
            <>
              <Val v={c.from} del /> → <Val v={c.to} />
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

// A value in a diff, cut short when long (the raw JSON has it whole).
function Val({ v, del }) {
  let s = show(v);
  if (s.length > 300) s = s.slice(0, 300) + '…';
  return del ? <del class="val">{s}</del> : <ins class="val">{s}</ins>;
}

function Relationships({ obj }) {
  const refs = references(obj);
  return (
    <section aria-labelledby="h-relationships" class="area-relationships">
      <h2 id="h-relationships">Relationships</h2>
      {refs.length === 0 ? (
        <p class="muted">This object refers to no other object.</p>
      ) : (
        <table class="compact">
          <caption class="sr-only">Objects this object refers to</caption>
          <thead>
            <tr>
              <th scope="col">Property</th>
              <th scope="col">Object</th>
            </tr>
          </thead>
          <tbody>
            {refs.map((r, i) => (
              <tr key={i}>
                <td>{r.path.replace(/_refs?$/, '').replace(/_refs?\./g, ' ').replace(/_/g, ' ')}</td>
                <td>
                  <Link href={objectHref(r.id)} class="id">
                    {r.id}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// An indicator's sightings over the last 90 days (the sightings dashboard's counts for it).
function SightingsOf({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api(`/api/ui/v1/sightings?days=90&indicator=${encodeURIComponent(id)}`)
      .then(setData)
      .catch((e) => setError(e.message));
  }, [id]);
  return (
    <section aria-labelledby="h-sightings">
      <h2 id="h-sightings">Sightings</h2>
      <Alert>{error}</Alert>
      {!data && !error && <Loading />}
      {data &&
        (data.total.total > 0 ? (
          <Bars days={data.days} series={data.total.series} label="Sightings in the last 90 days" />
        ) : (
          <p class="muted">Not seen in the last 90 days.</p>
        ))}
    </section>
  );
}

const KIND_NAMES = {
  ipv4: 'IPv4 address',
  ipv6: 'IPv6 address',
  domain: 'domain',
  url: 'URL',
  email: 'e-mail address',
  md5: 'MD5',
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha512: 'SHA-512',
  cve: 'CVE id',
};

// What shares a value with this object, or refers to it, through the node's value index.
function Related({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api(`/api/ui/v1/objects/${encodeURIComponent(id)}/related`)
      .then(setData)
      .catch((e) => setError(e.message));
  }, [id]);
  const values = (data && data.values) || [];
  return (
    <section aria-labelledby="h-related">
      <h2 id="h-related">Related objects</h2>
      <Alert>{error}</Alert>
      {!data && !error && <Loading />}
      {data && values.length === 0 && <p class="muted">No other object shares a value with this one or refers to it.</p>}
      {values.length > 0 && (
        <ul class="plain related">
          {values.map((g) => (
            <li key={g.kind + g.value}>
              <div>
                {g.kind === 'refers-to' ? (
                  'Refer to this object'
                ) : (
                  <>
                    Share the {KIND_NAMES[g.kind] || g.kind} <code>{g.value}</code>
                  </>
                )}{' '}
                <span class="muted">
                  ({Object.entries(g.counts)
                    .map(([c, n]) => `${n} ${c}`)
                    .join(', ')}
                  )
                </span>
              </div>
              <ul class="plain">
                {g.objects.map((o) => (
                  <li key={o.id}>
                    <Link href={objectHref(o.id)}>{o.name || o.id}</Link> <span class="muted">{o.type}</span>
                    {o.revoked && <span class="badge revoked">revoked</span>}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
