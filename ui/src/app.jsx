// The app's frame: the session, the header with the role's navigation, and the view for the path.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { Alert, Loading, useTitle } from './components.jsx';
import { BASE, Link, navigate, useLocation } from './router.js';
import { SignIn } from './views/SignIn.jsx';
import { Search } from './views/Search.jsx';
import { ObjectView } from './views/ObjectView.jsx';
import { Requests } from './views/Requests.jsx';
import { Import } from './views/Import.jsx';
import { Audit } from './views/Audit.jsx';
import { Peers } from './views/Peers.jsx';
import { Indicators } from './views/Indicators.jsx';
import { Sightings } from './views/Sightings.jsx';

// The views in the navigation, and the roles that may use each. Links a role cannot use are not
// shown at all (the server refuses them anyway).
const VIEWS = [
  { path: 'search', label: 'Search', roles: ['admin', 'analyst', 'reader'] },
  { path: 'indicators', label: 'Indicators', roles: ['admin', 'analyst', 'reader'] },
  { path: 'sightings', label: 'Sightings', roles: ['admin', 'analyst', 'reader'] },
  { path: 'requests', label: 'Requests', roles: ['admin', 'analyst', 'reader'] },
  { path: 'import', label: 'Import', roles: ['admin', 'analyst'] },
  { path: 'audit', label: 'Audit', roles: ['admin', 'auditor'] },
  { path: 'peers', label: 'Peers', roles: ['admin', 'auditor'] },
];
// Object pages are intelligence, read by the roles that may search.
const OBJECT_ROLES = VIEWS[0].roles;

const allowed = (role) => VIEWS.filter((v) => v.roles.includes(role));

/** Where a role starts: search, or the first view it may use (audit, for auditors). */
export const home = (role) => `${BASE}/${(allowed(role)[0] || VIEWS[0]).path}`;

const SIGNIN = `${BASE}/signin`;

export function App() {
  const loc = useLocation();
  // undefined while the first session check runs; null when signed out.
  const [session, setSession] = useState(undefined);
  const [bootError, setBootError] = useState('');
  const frame = useRef(null);
  const lastPath = useRef(loc.path);

  useEffect(() => {
    setUnauthorizedHandler(() => setSession(null));
    api('/api/ui/v1/session', { allow401: true })
      .then((s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
      })
      .catch((e) => {
        setSession(null); // the view for the path then goes to sign-in
        if (e.status !== 401) setBootError(e.message);
      });
  }, []);

  // After moving to another page, focus goes back to the top, as after a page load: the next Tab
  // reaches "Skip to content". Changes of the query alone (a new search) leave focus where it is.
  useEffect(() => {
    if (lastPath.current !== loc.path && frame.current) frame.current.focus({ preventScroll: true });
    lastPath.current = loc.path;
    scrollTo(0, 0);
  }, [loc.path]);

  const signedIn = (s) => {
    setCsrfToken(s.csrf_token);
    setSession(s);
    const next = new URLSearchParams(location.search).get('next') || '';
    // Only a path of this app, and not sign-in itself, is a place to come back to.
    const ok = next.startsWith(BASE + '/') && !next.startsWith(SIGNIN) && !next.startsWith('//');
    navigate(ok ? next : home(s.role), { replace: true });
  };

  const signOut = async () => {
    try {
      await api('/api/ui/v1/session', { method: 'DELETE', allow401: true });
    } catch {
      // Signed out already, or the node is gone: the page forgets the session either way.
    }
    setCsrfToken('');
    setSession(null);
    navigate(SIGNIN);
  };

  return (
    <div class="frame" tabIndex={-1} ref={frame}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link class="brand" href={session ? home(session.role) : SIGNIN}>
          Accord
        </Link>
        {session && (
          <>
            <nav aria-label="Main">
              <ul>
                {allowed(session.role).map((v) => (
                  <li key={v.path}>
                    <Link
                      href={`${BASE}/${v.path}`}
                      aria-current={loc.path.startsWith(`${BASE}/${v.path}`) ? 'page' : undefined}
                    >
                      {v.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
            <div class="who">
              <span class="user">
                {session.user} <span class="muted">({session.role})</span>
              </span>
              <button type="button" class="secondary" onClick={signOut}>
                Sign out
              </button>
            </div>
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {bootError ? (
          <Unavailable message={bootError} />
        ) : (
          <Route path={loc.path} search={loc.search} session={session} onSignedIn={signedIn} />
        )}
      </main>
    </div>
  );
}

function Route({ path, search, session, onSignedIn }) {
  if (path === SIGNIN) return <SignIn onSignedIn={onSignedIn} />;
  if (session === undefined) return <Loading />;
  if (session === null) return <ToSignIn />;
  const role = session.role;
  if (path === BASE || path === BASE + '/') return <Redirect to={home(role)} />;

  const [, view, ...rest] = path.slice(BASE.length).split('/');
  const may = (v) => VIEWS.find((x) => x.path === v).roles.includes(role);
  switch (view) {
    case 'search':
      return may('search') ? <Search search={search} /> : <NotPermitted role={role} />;
    case 'objects':
      return OBJECT_ROLES.includes(role) ? (
        <ObjectView key={rest.join('/')} id={decodeURIComponent(rest.join('/'))} />
      ) : (
        <NotPermitted role={role} />
      );
    case 'indicators':
      return may('indicators') ? <Indicators search={search} /> : <NotPermitted role={role} />;
    case 'sightings':
      return may('sightings') ? <Sightings search={search} /> : <NotPermitted role={role} />;
    case 'requests':
      return may('requests') ? <Requests search={search} /> : <NotPermitted role={role} />;
    case 'import':
      return may('import') ? <Import /> : <NotPermitted role={role} />;
    case 'peers':
      return may('peers') ? <Peers canManage={role === 'admin'} /> : <NotPermitted role={role} />;
    case 'audit':
      return may('audit') ? <Audit search={search} canOpen={OBJECT_ROLES.includes(role)} /> : <NotPermitted role={role} />;
    default:
      return <NoPage />;
  }
}

// Sends the browser to sign-in, remembering where it was so that it comes back there.
function ToSignIn() {
  useEffect(() => {
    const here = location.pathname + location.search;
    navigate(`${SIGNIN}?next=${encodeURIComponent(here)}`, { replace: true });
  }, []);
  return <Loading />;
}

function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function NotPermitted({ role }) {
  useTitle('Not permitted');
  return (
    <>
      <h1>Not permitted</h1>
      <p>The {role} role cannot use this page.</p>
    </>
  );
}

function NoPage() {
  useTitle('Not found');
  return (
    <>
      <h1>Not found</h1>
      <p>There is no such page.</p>
    </>
  );
}

function Unavailable({ message }) {
  useTitle('Unavailable');
  return (
    <>
      <h1>Unavailable</h1>
      <Alert>{message}</Alert>
    </>
  );
}
