// The browser half of bench/ui/run.py: first loads and object views in headless Chromium
// (Debian's /usr/bin/chromium, driven by the UI's pinned playwright-core). Reads
// {"base", "key", "loads", "pairs": [[value, id], ...]} on standard input; prints the figures as JSON.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../../ui/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const cfg = JSON.parse(readFileSync(0, 'utf8'));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
};
const median = (xs) => pct(xs, 50);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  // A session cookie, made once through the API (what the sign-in form does).
  const signin = await fetch(cfg.base + '/api/ui/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ key: cfg.key }),
  });
  const cookie = /accord_session=([^;]+)/.exec(signin.headers.get('set-cookie'))[1];
  const url = new URL(cfg.base);
  const session = [{ name: 'accord_session', value: cookie, domain: url.hostname, path: '/', httpOnly: true, sameSite: 'Strict' }];

  // The browser itself started once (its first renderer process), as an analyst's is.
  {
    const warm = await browser.newContext();
    await (await warm.newPage()).goto('about:blank');
    await warm.close();
  }
  // First load: a fresh context (empty cache, no connection) each time.
  const loads = [], ready = [];
  for (let i = 0; i < cfg.loads; i++) {
    const ctx = await browser.newContext();
    await ctx.addCookies(session);
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(cfg.base + '/ui/search', { waitUntil: 'load' });
    await page.getByRole('search').waitFor();
    ready.push(Date.now() - t0);
    loads.push(await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return n.loadEventEnd - n.startTime;
    }));
    await ctx.close();
  }

  // Object views, end to end, two ways: a pasted link (a full page load, the browser's cache
  // warm as for an analyst who follows links), and a click on a search result (the app's own
  // navigation); each from navigation or click to the object's heading rendered with its data.
  const ctx = await browser.newContext();
  await ctx.addCookies(session);
  const page = await ctx.newPage();
  await page.goto(cfg.base + '/ui/search', { waitUntil: 'load' });
  const views = [], clicks = [];
  for (const [value, id] of cfg.pairs) {
    let t0 = Date.now();
    await page.goto(cfg.base + '/ui/objects/' + id);
    await page.locator('h1', { hasText: 'bench ' }).waitFor();
    views.push(Date.now() - t0);
    await page.goto(cfg.base + '/ui/search?value=' + encodeURIComponent(value));
    const link = page.getByRole('link', { name: /^bench / }).first();
    await link.waitFor();
    t0 = Date.now();
    await link.click();
    await page.locator('h1', { hasText: 'bench ' }).waitFor();
    clicks.push(Date.now() - t0);
  }
  await ctx.close();
  console.log(JSON.stringify({
    first_load_ms: { median: median(ready), max: Math.max(...ready), load_event_median: median(loads) },
    object_view_ms: { p50: median(views), p99: pct(views, 99), max: Math.max(...views), count: views.length },
    object_view_click_ms: { p50: median(clicks), p99: pct(clicks, 99), max: Math.max(...clicks), count: clicks.length },
  }));
} finally {
  await browser.close();
}
