// Builds the web UI into dist/: `node build.mjs` (or `npm run build`).
//
//   dist/index.html                 written here; references the assets by absolute /ui/ paths
//   dist/assets/app-<hash>.js       src/main.jsx and everything it imports, minified
//   dist/assets/app-<hash>.css      src/app.css (imported by main.jsx)
//   dist/assets/*.gz                gzip copies, which the server sends to browsers that accept gzip
//
// The node's Content-Security-Policy allows no inline script or style, so index.html only links
// to the two files. Content hashes in the names let the server cache assets for a year.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const assets = join(dist, 'assets');

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets,
  entryNames: 'app-[hash]',
  assetNames: 'asset-[hash]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// The entry's JS output, and the CSS bundle esbuild emitted beside it.
const outputs = Object.entries(result.metafile.outputs);
const [jsPath, jsMeta] = outputs.find(([, o]) => o.entryPoint === 'src/main.jsx');
const cssPath = jsMeta.cssBundle;
if (!cssPath) throw new Error('build: src/main.jsx produced no CSS bundle (is app.css imported?)');

const js = basename(jsPath);
const css = basename(cssPath);
writeFileSync(
  join(dist, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Accord</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/${css}">
<script type="module" src="/ui/assets/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript><p>Accord's web UI needs JavaScript.</p></noscript>
</body>
</html>
`,
);

// gzip copies of the JS and CSS; the total is the size a browser downloads.
let gzTotal = 0;
for (const name of [js, css]) {
  const file = join(assets, name);
  const gz = gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(file + '.gz', gz);
  gzTotal += gz.length;
}
console.log(`ui: dist/assets/${js} + ${css}: ${gzTotal} bytes gzipped`);
