// Two real Accord nodes for the browser tests: `a` shares its collection "shared" with `b`
// (signed by `a` when it leaves) and sends `b` a points-of-contact request; `b` is the node
// whose web UI the tests drive. Built with the CLI exactly as an operator would
// (docs/FEDERATION.md), from the binary in $ACCORD_BINARY and the UI in $ACCORD_UI_DIR.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
export const accord = process.env.ACCORD_BINARY || join(repo, 'build-asan', 'src', 'cli', 'accord');
export const uiDir = process.env.ACCORD_UI_DIR || join(repo, 'ui', 'dist');
export const artifacts = process.env.ACCORD_UI_ARTIFACTS || join(here, 'artifacts');

export const TLP_RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function listening(port, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`accord serve exited with ${child.exitCode}`);
    const ok = await new Promise((done) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); done(true); });
      c.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`accord serve never listened on ${port}`);
}

export class Node {
  constructor(root, name) {
    this.name = name;
    this.dir = join(root, name);
    this.data = join(this.dir, 'data');
    this.child = null;
  }
  run(...args) {
    return execFileSync(accord, [...args, '--data', this.data], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, killSignal: 'SIGKILL',
    });
  }
  firstLine(...args) { return this.run(...args).split('\n')[0].trim(); }
  async init() {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    const j = JSON.parse(this.run('node', 'init', '--name', this.name, '--json'));
    this.identity = j.identity;
    this.publicKey = j.public_key;
    writeFileSync(join(this.data, 'accord.toml'),
      '[federation]\nsync_interval = 0\npage_size = 100\nrequest_timeout = 5\n' +
      'retry_base_ms = 100\nretry_max_s = 2\nrequest_interval = 0.2\n');
  }
  async start() {
    this.child = spawn(accord, ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`,
      '--access-log', '', '--ui', uiDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.log = '';
    this.child.stderr.on('data', (d) => { this.log += d; });
    await listening(this.port, this.child);
  }
  stop() {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
  // `accord user add NAME --role ROLE` and a key for it.
  person(user, role) {
    this.run('user', 'add', user, '--role', role);
    return this.firstLine('key', 'create', user);
  }
}

function jsonl(file, objects) {
  writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
  return file;
}

export function indicator(id, name, pattern, extra = {}) {
  return {
    type: 'indicator', spec_version: '2.1', id, created: '2026-11-01T00:00:00.000Z',
    modified: '2026-11-01T00:00:00.000Z', name, pattern, pattern_type: 'stix',
    valid_from: '2026-11-01T00:00:00Z', ...extra,
  };
}

// b's own intelligence: one indicator per kind of value the search takes, and a TLP:RED one.
export const LOCAL = [
  { kind: 'ipv4', value: '203.0.113.10', pattern: "[ipv4-addr:value = '203.0.113.10']" },
  { kind: 'ipv6', value: '2001:db8::10', pattern: "[ipv6-addr:value = '2001:db8::10']" },
  { kind: 'domain', value: 'c2.evil-domain.com', pattern: "[domain-name:value = 'c2.evil-domain.com']" },
  { kind: 'url', value: 'http://gate.bad-url.net/panel.php', pattern: "[url:value = 'http://gate.bad-url.net/panel.php']" },
  { kind: 'email', value: 'dropper@mail-drop.org', pattern: "[email-addr:value = 'dropper@mail-drop.org']" },
  { kind: 'md5', value: '9e107d9d372bb6826bd81d3542a419d6', pattern: "[file:hashes.MD5 = '9e107d9d372bb6826bd81d3542a419d6']" },
  { kind: 'sha1', value: '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12', pattern: "[file:hashes.'SHA-1' = '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12']" },
  { kind: 'sha256', value: 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592', pattern: "[file:hashes.'SHA-256' = 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592']" },
].map((x, i) => ({ ...x, id: `indicator--00000000-0000-4000-8000-0000000000${String(10 + i)}`, name: `local ${x.kind} indicator` }));
export const RED = {
  id: 'indicator--00000000-0000-4000-8000-0000000000ff', name: 'red secret indicator',
  value: '198.51.100.99', pattern: "[ipv4-addr:value = '198.51.100.99']",
};
export const PEER_OBJECT = 'indicator--6a0c3c6e-8b7b-4d3e-9f0a-2b1c4d5e6f70';
export const SUBJECT = 'Who runs the C2 at 203.0.113.10?';
// The sightings' counts: a's of the peer object (yesterday), b's own of LOCAL[0] (today).
export const SIGHTINGS = { fromA: 2, local: 4 };
// What b receives from a: the two versions of the peer object and a's sighting.
export const RECEIVED_FROM_A = 3;

// Sets up both nodes; returns what the tests need. Everything lives under one temp directory.
export async function federation() {
  const root = mkdtempSync(join(tmpdir(), 'accord-ui-'));
  const a = new Node(root, 'a'), b = new Node(root, 'b');
  await a.init();
  await b.init();
  // Access for each other, peers at both ends, agreements: a shares "shared" with b.
  a.run('user', 'add', 'b', '--role', 'peer');
  const keyForB = a.firstLine('key', 'create', 'b');
  b.run('user', 'add', 'a', '--role', 'peer');
  const keyForA = b.firstLine('key', 'create', 'a');
  a.run('peer', 'add', 'b', '--url', b.base + '/api/', '--identity', b.identity, '--public-key', b.publicKey, '--key', keyForA);
  b.run('peer', 'add', 'a', '--url', a.base + '/api/', '--identity', a.identity, '--public-key', a.publicKey, '--key', keyForB);
  a.run('collection', 'create', 'shared');
  writeFileSync(join(root, 'a-for-b.toml'), 'same_organization = false\n[share]\ncollections = ["shared"]\nmax_tlp = "amber"\nforward = false\n[accept]\nfrom = []\ninto = "from-b"\n');
  writeFileSync(join(root, 'b-for-a.toml'), 'same_organization = false\n[share]\ncollections = []\nmax_tlp = "amber"\nforward = false\n[accept]\nfrom = ["shared"]\ninto = "from-a"\n');
  a.run('agreement', 'set', 'b', join(root, 'a-for-b.toml'));
  b.run('agreement', 'set', 'a', join(root, 'b-for-a.toml'));
  // Two versions of one indicator at a; b pulls both.
  const v1 = indicator(PEER_OBJECT, 'c2 beacon', "[domain-name:value = 'beacon.peer-c2.com']", { description: 'first sighting' });
  const v2 = { ...v1, modified: '2026-11-02T00:00:00.000Z', description: 'confirmed by two sensors' };
  // And a's sighting of it, first seen yesterday (UTC), which b receives with it.
  const day = 86400000;
  const today = Math.floor(Date.now() / day) * day;
  const at = (t) => new Date(t).toISOString();
  const peerSighting = {
    type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-0000000000a1',
    created: at(today - day), modified: at(today - day), first_seen: at(today - day + 3600000),
    count: SIGHTINGS.fromA, sighting_of_ref: PEER_OBJECT, where_sighted_refs: [a.identity],
  };
  a.run('import', '-q', '-c', 'shared', jsonl(join(root, 'peer.jsonl'), [v1, v2, peerSighting]));
  await a.start();
  b.run('sync', '--once');
  // b's own intelligence and its people.
  b.run('collection', 'create', 'local');
  const local = LOCAL.map((x) => indicator(x.id, x.name, x.pattern));
  local.push(indicator(RED.id, RED.name, RED.pattern, { object_marking_refs: [TLP_RED] }));
  // b's own sighting of LOCAL[0], first seen today.
  local.push({
    type: 'sighting', spec_version: '2.1', id: 'sighting--00000000-0000-4000-8000-0000000000b1',
    created: at(today), modified: at(today), first_seen: at(today + 60000), count: SIGHTINGS.local,
    sighting_of_ref: LOCAL[0].id, where_sighted_refs: [b.identity],
  });
  b.run('import', '-q', '-c', 'local', jsonl(join(root, 'local.jsonl'), local));
  // A content conflict for b's quarantine: the same version of LOCAL[0] with another name.
  const conflicting = indicator(LOCAL[0].id, 'the same version, other content', LOCAL[0].pattern);
  try {
    b.run('import', '-q', '-c', 'local', jsonl(join(root, 'conflict.jsonl'), [conflicting]));
  } catch {
    // Exits 1: the copy was refused and quarantined, which is the point.
  }
  const keys = {
    ada: b.person('ada', 'admin'),
    alice: b.person('alice', 'analyst'),
    rita: b.person('rita', 'reader'),
    dora: b.person('dora', 'auditor'),
  };
  b.run('collection', 'grant', 'local', 'alice', '--read', '--write');
  b.run('collection', 'grant', 'from-a', 'alice', '--read');
  await b.start();
  // a's request reaches b's inbox at once (b serves).
  const sent = a.run('request', 'send', '--to', 'b', '--kind', 'request-for-information', '--urgency', 'high', '--subject', SUBJECT).trim().split('\n');
  const request = sent[sent.length - 1].trim();
  for (let i = 0; i < 300 && !b.run('request', 'list', '--json').includes(request); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    a, b, keys, request, peerVersions: [v1, v2],
    agreementForA: readFileSync(join(root, 'b-for-a.toml'), 'utf8'),
    close() {
      a.stop();
      b.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function requestState(node, id) {
  return JSON.parse(node.run('request', 'show', id, '--json')).state;
}

export function has(node, id) {
  try {
    node.run('get', id);
    return true;
  } catch {
    return false;
  }
}

