// The web UI in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against two real nodes (nodes.mjs): issue 16's browser acceptance. Expected values come from
// the objects and requests the fixture made, never from the UI's own output. Screenshots of
// every view go to $ACCORD_UI_ARTIFACTS (ui/tests/artifacts by default).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  LOCAL, PEER_OBJECT, RECEIVED_FROM_A, RED, SIGHTINGS, SUBJECT, artifacts, federation, freePort, has,
  requestState,
} from './nodes.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const CHROMIUM = process.env.ACCORD_CHROMIUM || '/usr/bin/chromium';

let fx, browser;
const cspViolations = [];

// Every wait that has no timeout of its own (Node's fetch, opening and closing pages) is bounded
// here, so that a stall fails with the step's name and the tail of b's log rather than as the
// whole test's timeout (CI saw one such stall, in the CSRF test, with nothing to go on).
async function within(label, promise, ms = 30000) {
  let timer;
  const stall = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${label}: no answer in ${ms} ms; b's log ends:\n` +
      (fx && fx.b.log ? fx.b.log.slice(-2000) : '(empty)'))), ms);
  });
  try {
    return await Promise.race([promise, stall]);
  } finally {
    clearTimeout(timer);
  }
}
// The test's own HTTP calls, each on a new connection (no keep-alive: a connection the server
// closed while idle is never reused), bounded. Answers { status, json() } like fetch's.
function call(url, { method = 'GET', headers = {}, body } = {}) {
  return within(`${method} ${url}`, new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: 20000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: async () => JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    req.on('error', reject);
    req.end(body);
  }));
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  fx = await federation();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  if (fx) fx.close();
});

// A fresh browser (context) for a person, signed in through the form. `keyboard`: only Tab,
// typing and Enter.
async function personPage(key, { keyboard = false, bypassCSP = false } = {}) {
  const context = await browser.newContext({ bypassCSP, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(30000);
  const page = await within('open a page', context.newPage());
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(fx.b.base + '/ui/');
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  if (keyboard) {
    for (let i = 0; i < 20; i++) {
      const label = await page.evaluate(() => document.activeElement && document.activeElement.id);
      if (label === 'api-key') break;
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), 'api-key', 'Tab reaches the key field');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
  } else {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

// The rows of the table captioned `caption` (its body rows).
function rows(page, caption) {
  return page.locator('table', { has: page.locator('caption', { hasText: caption }) }).locator('tbody tr');
}

// A search by value (value=V), or by whatever the URL's `query` says.
async function search(page, value, query = 'value=' + encodeURIComponent(value)) {
  await page.goto(fx.b.base + '/ui/search?' + query);
  await page.getByRole('heading', { level: 1, name: 'Search' }).waitFor();
  // The answer: results, "no objects", or an alert.
  await page.locator('table:has(caption:text("Results")), :text("No objects hold this value."), :text("No objects match."), [role=alert]').first().waitFor();
}

test('signing in and out: the session ends on the server', { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice, { keyboard: true });
  await page.getByText('alice').first().waitFor();
  // The role's navigation, and no more: an analyst has no audit view.
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Search', 'Requests', 'Import']) await nav.getByRole('link', { name }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Audit' }).count(), 0);
  await shot(page, 'search-empty');
  const cookie = (await context.cookies()).find((c) => c.name === 'accord_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'an HttpOnly, SameSite=Strict session cookie');
  const asCookie = () => call(fx.b.base + '/api/ui/v1/session', { headers: { Cookie: `accord_session=${cookie.value}` } });
  assert.equal((await asCookie()).status, 200);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  assert.equal((await asCookie()).status, 401, 'the old cookie is nobody after signing out');
  // A wrong key is refused, and said so.
  await page.getByLabel('API key').fill('nokey.nosecret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await shot(page, 'signin-wrong-key');
  await context.close();
});

test('search by each kind of value, and open an object from the results', { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  const queries = [...LOCAL.map((x) => ({ q: x.value, want: [x] })),
    { q: '203.0.113.0/24', want: LOCAL.filter((x) => x.kind === 'ipv4') },       // a CIDR holds the address
    { q: 'hxxp://gate[.]bad-url[.]net/panel.php', want: LOCAL.filter((x) => x.kind === 'url') }]; // defanged
  for (const { q, want } of queries) {
    await search(page, q);
    const names = await rows(page, 'Results').locator('td:first-child').allInnerTexts();
    assert.deepEqual(names.sort(), want.map((x) => x.name).sort(), `search ${q}`);
  }
  await search(page, LOCAL[0].value);
  await shot(page, 'search-results');
  await page.getByRole('link', { name: LOCAL[0].name }).click();
  await page.getByRole('heading', { level: 1, name: LOCAL[0].name }).waitFor();
  assert.match(page.url(), new RegExp(`/ui/objects/${LOCAL[0].id}$`));
  await page.getByText(LOCAL[0].pattern).first().waitFor();
  await shot(page, 'object');
  // Not a value: said so, in an alert.
  await search(page, 'not a value');
  await page.getByRole('alert').waitFor();
  // Words, typed into the form: all of them, in names and descriptions.
  await page.goto(fx.b.base + '/ui/search');
  await page.getByLabel('Value or words').fill('LOCAL sha256');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('table:has(caption:text("Results"))').waitFor();
  assert.deepEqual(await rows(page, 'Results').locator('td:first-child').allInnerTexts(),
    LOCAL.filter((x) => x.kind === 'sha256').map((x) => x.name));
  assert.match(page.url(), /[?&]q=LOCAL\+sha256/);
  // Filters, from a pasted link: b's own indicators named "local ...", newest first (stored in
  // LOCAL's order, one import).
  await search(page, null, 'q=local&type=indicator&collection=local');
  assert.deepEqual(await rows(page, 'Results').locator('td:first-child').allInnerTexts(),
    LOCAL.map((x) => x.name).reverse());
  await shot(page, 'search-words');
  await search(page, null, 'q=local&type=malware');
  await page.getByText('No objects match.').waitFor();
  await context.close();
});

test("an object received from a peer: its versions, their differences, and a's signature", { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  await page.goto(fx.b.base + '/ui/objects/' + PEER_OBJECT);
  await page.getByRole('heading', { level: 1, name: 'c2 beacon' }).waitFor();
  const signature = page.getByRole('region', { name: 'Signature' });
  await signature.getByText('Verified', { exact: true }).waitFor();
  await signature.getByText('Received from peer a').waitFor();
  assert.ok((await signature.innerText()).includes(fx.a.identity), "a's identity named as the signer");
  const versions = page.getByRole('region', { name: 'Versions' });
  const text = await versions.innerText();
  for (const v of fx.peerVersions) {
    assert.ok(text.includes(v.modified.slice(0, 10)), `version ${v.modified} listed`);
  }
  // The one property that changed between them, old and new.
  const [v1, v2] = fx.peerVersions;
  assert.ok(text.includes('description'), text);
  assert.ok(text.includes(v1.description) && text.includes(v2.description), text);
  await shot(page, 'object-from-peer');
  await context.close();
});

test('a CSRF attempt from another origin changes nothing', { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  const before = requestState(fx.b, fx.request);
  const planted = 'indicator--00000000-0000-4000-8000-00000000c5ef';
  // The attacker's page, on another port of the same host (same site: the SameSite cookie
  // goes along, so the server's own checks are what stop it).
  const port = await freePort();
  const target = fx.b.base;
  const html = `<!doctype html><html><body><h1>cute cats</h1>
<form id="f" method="POST" enctype="text/plain" action="${target}/api/ui/v1/requests/${fx.request}/steps">
<input name='{"step":"declined","text":"csrf","x":"' value='"}'></form>
<script>
const body = JSON.stringify({objects: [{type: 'indicator', spec_version: '2.1', id: '${planted}',
  created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', name: 'planted',
  pattern: "[ipv4-addr:value = '192.0.2.66']", pattern_type: 'stix', valid_from: '2026-01-01T00:00:00Z'}]});
Promise.allSettled([
  fetch('${target}/api/ui/v1/session', {method: 'DELETE', credentials: 'include', mode: 'no-cors'}),
  fetch('${target}/api/collections/local/objects/', {method: 'POST', credentials: 'include', mode: 'no-cors',
    headers: {'Content-Type': 'text/plain'}, body}),
]).then(() => { document.title = 'fetched'; document.getElementById('f').submit(); });
</script></body></html>`;
  const evil = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(html); });
  await new Promise((ok) => evil.listen(port, '127.0.0.1', ok));
  try {
    const attack = await within('open the attacker\'s page', context.newPage());
    const statuses = [];
    attack.on('response', (r) => { if (r.url().includes('/steps')) statuses.push(r.status()); });
    await attack.goto(`http://127.0.0.1:${port}/`);
    for (let i = 0; i < 200 && statuses.length === 0; i++) await attack.waitForTimeout(100);
    assert.deepEqual(statuses, [403], 'the forged form post is refused');
    // The refusal is the form's navigation: let it finish before closing the page. Chromium
    // acknowledges a close that races a navigation's commit and then drops it, so the close
    // never ends (crbug.com/536385539, playwright#42068; CI saw it here twice).
    await attack.waitForURL(/\/steps$/, { waitUntil: 'load' });
    await within('close the attacker\'s page', attack.close());
  } finally {
    evil.closeAllConnections();
    evil.close();
  }
  // Nothing changed: still signed in, the request as it was, nothing planted.
  await page.reload();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(requestState(fx.b, fx.request), before);
  assert.equal(has(fx.b, planted), false);
  // And directly: the cookie and even the right token from a foreign Origin are refused.
  const cookie = (await within('read the cookies', context.cookies())).find((c) => c.name === 'accord_session');
  const token = (await (await call(fx.b.base + '/api/ui/v1/session', { headers: { Cookie: `accord_session=${cookie.value}` } })).json()).csrf_token;
  const forged = await call(`${fx.b.base}/api/ui/v1/requests/${fx.request}/steps`, {
    method: 'POST', body: JSON.stringify({ step: 'declined' }),
    headers: { Cookie: `accord_session=${cookie.value}`, 'X-CSRF-Token': token, Origin: 'http://evil.example', 'Content-Type': 'application/json' },
  });
  assert.equal(forged.status, 403);
  assert.equal(requestState(fx.b, fx.request), before);
  await within('close the context', context.close());
});

test("acknowledging a's request in the inbox", { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  assert.equal(requestState(fx.b, fx.request), 'received');
  await page.goto(fx.b.base + '/ui/requests');
  await page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
  const row = rows(page, 'Inbox').filter({ hasText: SUBJECT });
  await row.waitFor();
  assert.ok((await row.innerText()).includes('received'));
  await shot(page, 'requests-inbox');
  await page.getByRole('button', { name: `Acknowledge: ${SUBJECT}` }).click();
  await row.getByText('acknowledged', { exact: true }).waitFor();
  assert.equal(requestState(fx.b, fx.request), 'acknowledged', 'stored at b');
  assert.equal(await page.getByRole('button', { name: `Acknowledge: ${SUBJECT}` }).count(), 0, 'no second acknowledgement offered');
  await shot(page, 'requests-acknowledged');
  // The reader sees the inbox but no button to act with.
  const reader = await personPage(fx.keys.rita);
  await reader.page.goto(fx.b.base + '/ui/requests');
  await rows(reader.page, 'Inbox').filter({ hasText: SUBJECT }).waitFor();
  assert.equal(await reader.page.locator('td.actions button').count(), 0);
  await reader.context.close();
  await context.close();
});

test('a reader never sees the TLP:RED object, anywhere', { timeout: 120000 }, async () => {
  // The analyst does (so the reader's test below can fail).
  const analyst = await personPage(fx.keys.alice);
  await search(analyst.page, RED.value);
  assert.deepEqual(await rows(analyst.page, 'Results').locator('td:first-child').allInnerTexts(), [RED.name]);
  await search(analyst.page, null, 'q=' + encodeURIComponent(RED.name));
  assert.deepEqual(await rows(analyst.page, 'Results').locator('td:first-child').allInnerTexts(), [RED.name]);
  await search(analyst.page, null, 'marking=red');
  assert.deepEqual(await rows(analyst.page, 'Results').locator('td:first-child').allInnerTexts(), [RED.name]);
  await analyst.context.close();
  const { context, page } = await personPage(fx.keys.rita);
  const seen = [];
  const look = async (what) => {
    const html = await page.content();
    if (html.includes(RED.id) || html.includes(RED.name)) seen.push(what);
  };
  await search(page, RED.value);
  await page.getByText('No objects hold this value.').waitFor();
  await look('search by its value');
  await shot(page, 'reader-search-red');
  await search(page, '198.51.100.0/24');
  await look('search by its network');
  await search(page, null, 'q=' + encodeURIComponent(RED.name));
  await page.getByText('No objects match.').waitFor();
  await look('search by the words of its name');
  await search(page, null, 'marking=red');
  await look('search by its marking');
  await page.goto(fx.b.base + '/ui/objects/' + RED.id);
  await page.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
  await look('its object page');
  await shot(page, 'reader-object-red');
  // The indicators view lists the collection without it (the analyst's lists it: above the
  // reader's, so that this part can fail).
  for (const person of ['alice', 'rita']) {
    const p = person === 'rita' ? page : (await personPage(fx.keys.alice)).page;
    await p.goto(fx.b.base + '/ui/indicators?collection=local');
    const list = rows(p, 'Indicators in local');
    await list.first().waitFor();
    const names = await list.locator('td:first-child').allInnerTexts();
    assert.ok(names.length >= LOCAL.length, names.join(', '));
    assert.equal(names.includes(RED.name), person === 'alice', `${person}: ${names.join(', ')}`);
    if (person === 'alice') await p.context().close();
  }
  await look('the indicators view');
  await shot(page, 'reader-indicators');
  for (const path of ['/ui/requests', '/ui/search', '/ui/import', '/ui/audit']) {
    await page.goto(fx.b.base + path);
    await page.locator('h1').waitFor();
    await look(path);
  }
  assert.deepEqual(seen, []);
  await context.close();
});

test("the indicators view: a collection's indicators, their state and patterns, filtered, opened", { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  await page.getByRole('link', { name: 'Indicators' }).click();
  await page.getByRole('heading', { level: 1, name: 'Indicators' }).waitFor();
  await page.getByLabel('Collection').selectOption('local');
  await page.getByLabel('Text').fill('local');
  await page.getByRole('button', { name: 'Show' }).click();
  const list = rows(page, 'Indicators in local');
  await list.first().waitFor();
  assert.match(page.url(), /collection=local/);
  assert.match(page.url(), /q=local/);
  assert.deepEqual((await list.locator('td:first-child').allInnerTexts()).sort(), LOCAL.map((x) => x.name).sort());
  // None has a valid_until: each is active, and shows its pattern.
  assert.deepEqual([...new Set(await list.locator('td:nth-child(2)').allInnerTexts())], ['active']);
  for (const x of LOCAL) {
    assert.match(await list.filter({ hasText: x.name }).innerText(), new RegExp(x.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
  await shot(page, 'indicators');
  await page.getByLabel('State').selectOption('expiring');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByText('No indicators match.').waitFor();
  await page.goBack();
  await list.first().waitFor();
  await page.getByRole('link', { name: LOCAL[2].name }).click();
  await page.getByRole('heading', { level: 1, name: LOCAL[2].name }).waitFor();
  assert.match(page.url(), new RegExp(LOCAL[2].id));
  await context.close();
});

test("the sightings dashboard: per day, indicator, source and peer; an indicator's own chart", { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  await page.getByRole('link', { name: 'Sightings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sightings' }).waitFor();
  const total = SIGHTINGS.fromA + SIGHTINGS.local;
  await page.getByRole('img', { name: new RegExp(`^Sightings: ${total} in 30 days, at most ${SIGHTINGS.local} a day`) }).waitFor();
  const indicators = rows(page, 'Indicators seen most');
  assert.deepEqual(await indicators.locator('td:nth-child(2)').allInnerTexts(), [String(SIGHTINGS.local), String(SIGHTINGS.fromA)]);
  assert.deepEqual(await indicators.locator('td:first-child').allInnerTexts(), [LOCAL[0].name, 'c2 beacon']);
  const peers = rows(page, 'Peers (who sent it here)');
  assert.deepEqual(await peers.allInnerTexts().then((r) => r.map((x) => x.replace(/\s+/g, ' ').trim())),
    [`this node ${SIGHTINGS.local}`, `a ${SIGHTINGS.fromA}`]);
  const sources = rows(page, 'Sources (who saw it)');
  assert.deepEqual((await sources.locator('td:first-child').allInnerTexts()), ['b (this node)', 'a']);
  await shot(page, 'sightings');
  // The indicator's page charts its own.
  await indicators.getByRole('link', { name: LOCAL[0].name }).click();
  await page.getByRole('heading', { level: 1, name: LOCAL[0].name }).waitFor();
  await page.getByRole('img', { name: new RegExp(`^Sightings in the last 90 days: ${SIGHTINGS.local} in 90 days`) }).waitFor();
  await shot(page, 'object-sightings');
  await context.close();
});

test('an upload with bad records is reported record by record', { timeout: 120000 }, async () => {
  const { context, page } = await personPage(fx.keys.alice);
  await page.goto(fx.b.base + '/ui/import');
  await page.getByRole('heading', { level: 1, name: 'Import' }).waitFor();
  const good = (n) => ({
    type: 'indicator', spec_version: '2.1', id: `indicator--00000000-0000-4000-8000-0000000001${n}`,
    created: '2026-11-01T00:00:00.000Z', modified: '2026-11-01T00:00:00.000Z', name: `upload ${n}`,
    pattern: `[ipv4-addr:value = '192.0.2.${n}']`, pattern_type: 'stix', valid_from: '2026-11-01T00:00:00Z',
  });
  const badPattern = { ...good(90), id: 'indicator--00000000-0000-4000-8000-000000000190', pattern: "[ipv4-addr:value = ]" };
  const noPatternType = { ...good(91), id: 'indicator--00000000-0000-4000-8000-000000000191' };
  delete noPatternType.pattern_type;
  const bundle = { type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000001',
    objects: [good(11), badPattern, good(12), noPatternType, good(13)] };
  await page.getByLabel('Collection').selectOption({ label: 'local' });
  await page.getByLabel('Format').selectOption({ label: 'STIX bundle' });
  await page.getByLabel('File').setInputFiles({ name: 'bundle.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bundle)) });
  await page.getByRole('button', { name: 'Import' }).click();
  const status = page.getByRole('status');
  await status.getByText(/accepted/).waitFor();
  assert.match(await status.innerText(), /3 accepted, 2 rejected/);
  const rejected = await rows(page, 'Rejected records').allInnerTexts();
  assert.equal(rejected.length, 2, rejected.join('\n'));
  assert.ok(rejected[0].includes(badPattern.id) || rejected[1].includes(badPattern.id), rejected.join('\n'));
  assert.ok(rejected.some((r) => r.includes(noPatternType.id)), rejected.join('\n'));
  for (const r of rejected) assert.ok(r.split('\t').pop().trim().length > 0, `a reason: ${r}`);
  await shot(page, 'import-rejected');
  for (const n of [11, 12, 13]) assert.equal(has(fx.b, good(n).id), true);
  assert.equal(has(fx.b, badPattern.id), false);
  await context.close();
});

test("the peers view: a's health, lag and agreement; the quarantine and its buttons for admins only", { timeout: 120000 }, async () => {
  const quarantined = JSON.parse(fx.b.run('quarantine', 'list', '--json'));
  assert.equal(quarantined.length, 1, 'the fixture made one content conflict');
  {
    const { context, page } = await personPage(fx.keys.ada);
    await page.getByRole('link', { name: 'Peers' }).click();
    await page.getByRole('heading', { level: 2, name: /^a\b/ }).waitFor();
    assert.match(await page.getByRole('heading', { level: 2, name: /^a\b/ }).innerText(), /In sync/);
    const pulled = rows(page, 'Collections pulled from a');
    assert.equal(await pulled.count(), 1);
    const row = await pulled.first().innerText();
    assert.match(row, /shared/);
    assert.match(row, /caught up/);
    assert.match(row, new RegExp(`\\b${RECEIVED_FROM_A}\\b`), 'both versions and the sighting were received');
    await page.getByText(/Agreement, version 1/).click();
    assert.equal((await page.locator('pre.raw').innerText()).trimEnd(), fx.agreementForA.trimEnd());
    const entries = rows(page, 'Quarantined versions');
    assert.equal(await entries.count(), 1);
    assert.match(await entries.first().innerText(), new RegExp(LOCAL[0].id));
    await shot(page, 'peers');
    await page.getByRole('button', { name: `Drop entry ${quarantined[0].qid}` }).click();
    await page.getByText(`Dropped entry #${quarantined[0].qid}.`).waitFor();
    assert.equal(JSON.parse(fx.b.run('quarantine', 'list', '--json')).length, 0);
    await rows(page, 'Quarantined versions').filter({ hasText: 'The quarantine is empty.' }).waitFor();
    await context.close();
  }
  {
    // An auditor reads the peers and agreements, not the quarantine (it names intelligence).
    const { context, page } = await personPage(fx.keys.dora);
    await page.getByRole('link', { name: 'Peers' }).click();
    await page.getByRole('heading', { level: 2, name: /^a\b/ }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Quarantine' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Drop|release/i }).count(), 0);
    await context.close();
  }
  {
    // An analyst has no link to it, and the page itself says so.
    const { context, page } = await personPage(fx.keys.alice);
    assert.equal(await page.getByRole('link', { name: 'Peers' }).count(), 0);
    await page.goto(fx.b.base + '/ui/peers');
    await page.getByRole('heading', { level: 1, name: 'Not permitted' }).waitFor();
    await context.close();
  }
});

test('accessibility: axe-core finds no WCAG A/AA violation, and every control is reached by Tab', { timeout: 120000 }, async () => {
  const views = [
    { who: 'alice', path: '/ui/search?value=' + encodeURIComponent(LOCAL[0].value) },
    { who: 'alice', path: '/ui/objects/' + PEER_OBJECT },
    { who: 'alice', path: '/ui/requests' },
    { who: 'alice', path: '/ui/import' },
    { who: 'alice', path: '/ui/indicators?collection=local' },
    { who: 'alice', path: '/ui/sightings' },
    { who: 'ada', path: '/ui/audit' },
    { who: 'ada', path: '/ui/peers' },
  ];
  const problems = [];
  for (const v of views) {
    const { context, page } = await personPage(fx.keys[v.who], { bypassCSP: true });
    await page.goto(fx.b.base + v.path);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    await shot(page, 'a11y-' + v.path.split('?')[0].split('/')[2]);
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    });
    for (const r of result) problems.push(`${v.path}: ${r}`);
    // Keyboard: Tab from the top reaches every visible control in the tab order (a tablist's
    // inactive tabs are reached with the arrow keys, as ARIA's tabs pattern says), each with
    // a visible focus.
    const controls = await page.evaluate(() => {
      const all = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')];
      // Rendered ones only: not hidden, and not inside a closed <details> (its summary is).
      const shown = (e) => e.checkVisibility() &&
        !(e.tagName !== 'SUMMARY' && e.closest('details:not([open])'));
      const tabbable = all.filter((e) => !e.disabled && e.tabIndex >= 0 && shown(e));
      tabbable.forEach((e, i) => e.setAttribute('data-tab-probe', String(i)));
      return tabbable.length;
    });
    await page.evaluate(() => { document.activeElement && document.activeElement.blur(); });
    const reached = new Set();
    for (let i = 0; i < 2 * controls + 10 && reached.size < controls; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        const s = getComputedStyle(e);
        const visible = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
        return { key: e.getAttribute('data-tab-probe'), visible, what: e.outerHTML.slice(0, 80) };
      });
      if (!f || f.key === null) continue;
      reached.add(f.key);
      if (!f.visible) problems.push(`${v.path}: no visible focus on ${f.what}`);
    }
    if (reached.size < controls) {
      const missed = await page.evaluate((seen) => [...document.querySelectorAll('[data-tab-probe]')]
        .filter((e) => !seen.includes(e.getAttribute('data-tab-probe'))).map((e) => e.outerHTML.slice(0, 80)), [...reached]);
      problems.push(`${v.path}: Tab reached ${reached.size} of ${controls} controls; not: ${missed.join(' | ')}`);
    }
    await context.close();
  }
  assert.deepEqual(problems, []);
});

test('no Content-Security-Policy violation on any page', { timeout: 120000 }, () => {
  assert.deepEqual(cspViolations, []);
});
