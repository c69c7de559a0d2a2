// Sign in with an API key (`accord key create NAME` makes one). The key goes to the node once;
// the node answers with an HttpOnly session cookie and the CSRF token.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Alert, useTitle } from '../components.jsx';

export function SignIn({ onSignedIn }) {
  useTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    setError('');
    if (!key.trim()) {
      setError('Enter your API key.');
      return;
    }
    setBusy(true);
    try {
      const s = await api('/api/ui/v1/session', { method: 'POST', json: { key: key.trim() }, allow401: true });
      setKey('');
      onSignedIn(s);
    } catch (err) {
      if (err.status === 401) setError('Wrong key.');
      else if (err.status === 429)
        setError(
          `Too many failed sign-ins; try again${err.retryAfter ? ` in ${err.retryAfter} seconds` : ' later'}.`,
        );
      else setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="narrow">
      <h1>Sign in</h1>
      <p class="muted">
        Sign in with your API key. An administrator makes one with <code>accord key create NAME</code>.
      </p>
      <form onSubmit={submit} class="stack">
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autoComplete="current-password"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </div>
        <Alert>{error}</Alert>
        <div>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </div>
      </form>
    </div>
  );
}
