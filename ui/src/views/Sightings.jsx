// The sightings dashboard: how often the node's indicators were seen, per day, per indicator,
// per source (who saw it) and per peer (who sent the sighting here). The window lives in the
// URL (/ui/sightings?days=90).
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Alert, DataTable, Loading, TitleRow, useTitle } from '../components.jsx';
import { Bars, Spark } from '../chart.jsx';
import { BASE, Link, navigate, objectHref, params } from '../router.js';

const WINDOWS = [7, 30, 90, 365];

export function Sightings({ search }) {
  useTitle('Sightings');
  const days = Number(params(search).days) || 30;
  const [data, setData] = useState(null);
  const [error, setError] = useState('');

  const load = () => {
    setError('');
    setData(null);
    api('/api/ui/v1/sightings' + query({ days }))
      .then(setData)
      .catch((e) => {
        setData({});
        setError(e.message);
      });
  };
  useEffect(load, [days]);

  return (
    <>
      <TitleRow title="Sightings" onRefresh={load} />
      <div class="toolbar">
        <div class="field">
          <label for="g-days">Window</label>
          <select
            id="g-days"
            value={String(days)}
            onChange={(e) => navigate(`${BASE}/sightings` + query({ days: e.currentTarget.value }))}
          >
            {WINDOWS.map((d) => (
              <option key={d} value={String(d)}>
                the last {d} days
              </option>
            ))}
          </select>
        </div>
      </div>
      <Alert>{error}</Alert>
      {data === null ? <Loading /> : data.days && <Dashboard data={data} />}
    </>
  );
}

function Dashboard({ data }) {
  const days = data.days;
  return (
    <>
      <p class="muted">
        {data.sightings.toLocaleString('en')} sightings counted, by the day they were first seen (UTC)
        {data.truncated && '; only the first 200,000 were read'}.
      </p>
      <Bars days={days} series={data.total.series} label="Sightings" />
      <Counts
        caption="Indicators seen most"
        column="Indicator"
        rows={data.indicators}
        empty="No sightings in this window."
        keyOf={(x) => x.id}
        nameOf={(x) => <Link href={objectHref(x.id)}>{x.name || x.id}</Link>}
      />
      <Counts
        caption="Sources (who saw it)"
        column="Source"
        rows={data.sources}
        empty="No sources."
        keyOf={(x) => x.id}
        nameOf={(x) => x.name || <code class="id">{x.id || 'unnamed'}</code>}
      />
      <Counts
        caption="Peers (who sent it here)"
        column="Peer"
        rows={data.peers}
        empty="No sightings from anyone."
        keyOf={(x) => x.peer}
        nameOf={(x) => x.peer || <span class="muted">this node</span>}
      />
    </>
  );
}

// One breakdown: a row per indicator, source or peer, with its total and trend.
function Counts({ caption, column, rows, empty, keyOf, nameOf }) {
  return (
    <DataTable caption={caption} columns={[column, 'Sightings', 'Trend']} count={rows.length} empty={empty}>
      {rows.map((x) => (
        <tr key={keyOf(x)}>
          <td>{nameOf(x)}</td>
          <td class="num">{x.total.toLocaleString('en')}</td>
          <td>
            <Spark series={x.series} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
