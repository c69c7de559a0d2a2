// STIX helpers for the views: TLP markings, indicator patterns in words, references, diffs.

// The TLP marking definitions every STIX producer uses (TLP 2.0, then TLP 1.0 from STIX 2.1's
// specification), by id.
const TLP = {
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487': 'clear',
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb': 'green',
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421': 'amber',
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003': 'amber+strict',
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1': 'red',
  'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9': 'white',
  'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da': 'green',
  'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 'amber',
  'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed': 'red',
};

/** The TLP level ('clear', 'green', 'amber', 'amber+strict', 'red', 'white') of a well-known
 *  marking id, or of a marking-definition object named "TLP:..."; else null. */
export function tlpLevel(idOrObject) {
  if (typeof idOrObject === 'string') return TLP[idOrObject] || null;
  const o = idOrObject || {};
  if (TLP[o.id]) return TLP[o.id];
  if (o.definition_type === 'tlp' && o.definition && o.definition.tlp) return o.definition.tlp.toLowerCase();
  const m = /^TLP:\s*(CLEAR|WHITE|GREEN|AMBER\+STRICT|AMBER|RED)\b/i.exec(o.name || '');
  return m ? m[1].toLowerCase() : null;
}

// ---- Indicator patterns in words ----------------------------------------------------------------

const TYPE_WORDS = {
  'domain-name': 'a domain name',
  'ipv4-addr': 'an IPv4 address',
  'ipv6-addr': 'an IPv6 address',
  'mac-addr': 'a MAC address',
  url: 'a URL',
  'email-addr': 'an e-mail address',
  'email-message': 'an e-mail message',
  file: 'a file',
  directory: 'a directory',
  process: 'a process',
  software: 'software',
  'user-account': 'a user account',
  'network-traffic': 'network traffic',
  'windows-registry-key': 'a Windows registry key',
  'x509-certificate': 'an X.509 certificate',
  'autonomous-system': 'an autonomous system',
  mutex: 'a mutex',
  artifact: 'an artifact',
};

// Comparison operators, as said after the object itself ("a URL equal to ...") and after one of
// its properties ("a file whose name is ...").
const OPS = {
  '=': ['equal to', 'is'],
  '!=': ['not equal to', 'is not'],
  '>': ['greater than', 'is greater than'],
  '<': ['less than', 'is less than'],
  '>=': ['at least', 'is at least'],
  '<=': ['at most', 'is at most'],
  IN: ['equal to one of', 'is one of'],
  LIKE: ['like', 'is like'],
  MATCHES: ['matching the regular expression', 'matches the regular expression'],
  ISSUBSET: ['in', 'is in'],
  ISSUPERSET: ['containing', 'contains'],
};

// Tokens: strings ('..' with \' and \\ escapes, optionally prefixed h/b/t), brackets,
// operators, and words (object paths, numbers, keywords).
function tokenize(text) {
  const re = /\s*(?:([hbt]?)'((?:[^'\\]|\\.)*)'|(!=|>=|<=|[=<>()[\],])|([A-Za-z0-9_\-.:*'"]+))/y;
  const out = [];
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return null;
    i = re.lastIndex;
    if (m[2] !== undefined) out.push({ k: 'str', v: m[2].replace(/\\(.)/g, '$1') });
    else if (m[3]) out.push({ k: 'punct', v: m[3] });
    else out.push({ k: 'word', v: m[4] });
  }
  return out;
}

// "hashes.'SHA-256'" -> "SHA-256 hash"; "name" -> "name"; "x509_v3_extensions.x" -> "x509 v3 extensions x"
function pathWords(path) {
  const hash = /^hashes\.'?([^']+)'?$/.exec(path);
  if (hash) return `${hash[1]} hash`;
  return path.replace(/'/g, '').replace(/[._]/g, ' ').replace(/\[\*\]|\[\d+\]/g, '');
}

/**
 * Says what a STIX pattern matches, in words, for the simple cases: comparisons joined by AND/OR
 * inside [...], observations joined by AND/OR/FOLLOWEDBY. Null for anything else (qualifiers,
 * NOT, unknown syntax): then only the pattern itself is shown.
 */
export function explainPattern(pattern) {
  const toks = tokenize(String(pattern || ''));
  if (!toks || !toks.length) return null;
  let pos = 0;
  const peek = () => toks[pos];
  const take = (k, v) => {
    const t = toks[pos];
    if (!t || t.k !== k || (v !== undefined && t.v.toUpperCase() !== v)) throw 0;
    pos++;
    return t;
  };
  const isWord = (v) => peek() && peek().k === 'word' && peek().v.toUpperCase() === v;
  const isPunct = (v) => peek() && peek().k === 'punct' && peek().v === v;

  function value() {
    if (isPunct('(')) {
      take('punct', '(');
      const vs = [value()];
      while (isPunct(',')) {
        take('punct', ',');
        vs.push(value());
      }
      take('punct', ')');
      return vs.join(', ');
    }
    const t = peek();
    if (!t || (t.k !== 'str' && t.k !== 'word')) throw 0;
    pos++;
    return t.v;
  }
  function comparison(prevType) {
    const lhs = take('word').v;
    const colon = lhs.indexOf(':');
    if (colon < 1) throw 0;
    const type = lhs.slice(0, colon);
    const path = lhs.slice(colon + 1);
    const opTok = peek();
    if (!opTok) throw 0;
    const op = opTok.v.toUpperCase();
    if (!OPS[op]) throw 0;
    pos++;
    const v = value();
    const subject = TYPE_WORDS[type] || `an object of type ${type}`;
    const [bare, whose] = OPS[op];
    const pred = path === 'value' ? `${bare} ${v}` : `whose ${pathWords(path)} ${whose} ${v}`;
    // A second comparison on the same object continues the sentence: "a file whose ... and whose ...".
    return { type, text: prevType === type ? pred : `${subject} ${pred}` };
  }
  function comparisons() {
    let first = comparison(null);
    let text = first.text;
    while (isWord('AND') || isWord('OR')) {
      const joiner = take('word').v.toLowerCase();
      const next = comparison(joiner === 'and' ? first.type : null);
      text += ` ${joiner} ${next.text}`;
    }
    return text;
  }
  function observation() {
    if (isPunct('(')) {
      take('punct', '(');
      const inner = observations();
      take('punct', ')');
      return inner;
    }
    take('punct', '[');
    const text = comparisons();
    take('punct', ']');
    return text;
  }
  function observations() {
    let text = observation();
    while (isWord('AND') || isWord('OR') || isWord('FOLLOWEDBY')) {
      const op = take('word').v.toUpperCase();
      const joiner = op === 'FOLLOWEDBY' ? ', followed by' : op === 'AND' ? ', and' : ', or';
      text += `${joiner} ${observation()}`;
    }
    return text;
  }
  try {
    const text = observations();
    return pos === toks.length ? text : null;
  } catch {
    return null;
  }
}

// ---- References and diffs ---------------------------------------------------------------------

const ID_RE = /^[a-z0-9-]+--[0-9a-fA-F-]{36}$/;

/** The object references in `obj` ("created_by_ref", "object_refs", nested ones too), as
 *  [{path, id}], markings left out (the Markings section shows them). */
export function references(obj) {
  const out = [];
  const walk = (v, path) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, path));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'object_marking_refs' || k === 'granular_markings') continue;
        const p = path ? `${path}.${k}` : k;
        if (/_refs?$/.test(k)) {
          for (const id of [].concat(x)) if (typeof id === 'string' && ID_RE.test(id)) out.push({ path: p, id });
        } else walk(x, p);
      }
    }
  };
  walk(obj, '');
  return out;
}

/** The top-level properties that differ between two versions: [{key, kind: 'added'|'removed'|
 *  'changed', from, to}], in key order. */
export function diff(older, newer) {
  const keys = [...new Set([...Object.keys(older), ...Object.keys(newer)])].sort();
  const out = [];
  for (const key of keys) {
    const a = older[key];
    const b = newer[key];
    if (a === undefined) out.push({ key, kind: 'added', to: b });
    else if (b === undefined) out.push({ key, kind: 'removed', from: a });
    else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ key, kind: 'changed', from: a, to: b });
  }
  return out;
}

/** A property value as short text: strings as they are, lists joined, the rest as JSON. */
export function show(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  return JSON.stringify(v);
}
