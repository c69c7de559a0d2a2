// Entry point: renders the app into index.html's #app.
import { render } from 'preact';
import { prefetch } from './api.js';
import { App } from './app.jsx';
import './app.css';

// A pasted link to an object: its data is read while the session is checked, not after.
const object = /^\/ui\/objects\/([^/]+)$/.exec(location.pathname);
if (object) {
  try {
    prefetch(`/api/ui/v1/objects/${encodeURIComponent(decodeURIComponent(object[1]))}`);
  } catch {
    // A malformed link (a stray '%'): the view says so.
  }
}

render(<App />, document.getElementById('app'));
