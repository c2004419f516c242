import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, session, whenUnauthorised } from './api';
import { AdminInsights } from './pages/admin-insights';
import { AlgorithmPage } from './pages/algorithm-page';
import { AlgorithmsPage } from './pages/algorithms';
import { ApiDocs } from './pages/api-docs';
import { LiveTailPage } from './pages/live-tail';
import { SignIn } from './pages/sign-in';
import { BASE, Link, navigate, usePath } from './router';
import './styles.css';

export interface Me {
  username: string;
  key_type: string;
  admin: boolean;
  allow_algo: boolean;
  allow_algo_management: boolean;
}

function App() {
  const path = usePath();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(session.key() !== null);
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    whenUnauthorised((err) => {
      session.clear();
      setMe(null);
      setNotice(`Signed out: ${err.message} (the key was revoked or expired). Sign in again.`);
    });
    // A fresh page load in a tab that already signed in: check the kept key once.
    if (session.key()) {
      api<Me>('GET', '/v1/whoami')
        .then(setMe)
        .catch(() => session.clear())
        .finally(() => setChecking(false));
    }
  }, []);

  if (checking) return <p class="boot">Checking your key…</p>;
  if (!me) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(who, key) => {
          session.set(key);
          setNotice(undefined);
          setMe(who);
          if (path === `${BASE}/` || path === BASE) navigate(home(who), { replace: true });
        }}
      />
    );
  }
  return (
    <>
      <Nav me={me} path={path} onSignOut={() => {
        session.clear();
        setMe(null);
        setNotice('Signed out. The key was removed from this tab.');
      }} />
      <main>
        <Screen me={me} path={path} />
      </main>
    </>
  );
}

const home = (me: Me) => (me.admin ? `${BASE}/admin/insights` : `${BASE}/algorithms`);

function Nav(props: { me: Me; path: string; onSignOut: () => void }) {
  // An admin key may call only the admin routes (the API's rule), so it gets the admin pages instead.
  const items: Array<[string, string]> = [
    ...(props.me.admin ? [] : ([[`${BASE}/algorithms`, 'Algorithms']] as Array<[string, string]>)),
    ...(props.me.admin ? ([[`${BASE}/admin/insights`, 'Algorithmia Insights'], [`${BASE}/admin/insights/live`, 'Live tail']] as Array<[string, string]>) : []),
    [`${BASE}/api`, 'API docs'],
  ];
  const current = (href: string) =>
    props.path === href || (props.path.startsWith(`${href}/`) && !items.some(([h]) => h !== href && h.startsWith(href) && props.path.startsWith(h)));
  return (
    <header class="topbar">
      <Link href={home(props.me)} class="brand">Beacon</Link>
      <nav aria-label="Main">
        {items.map(([href, label]) => (
          <Link key={href} href={href} aria-current={current(href) ? 'page' : undefined}>{label}</Link>
        ))}
      </nav>
      <div class="who">
        <span title={props.me.key_type}>{props.me.username}{props.me.admin ? ' (admin)' : ''}</span>
        <button type="button" class="link" onClick={props.onSignOut}>Sign out</button>
      </div>
    </header>
  );
}

function Screen({ me, path }: { me: Me; path: string }) {
  const rest = path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/+$/, '') : path;
  if (rest === '' ) {
    navigate(home(me), { replace: true });
    return null;
  }
  if (rest === '/algorithms') return <AlgorithmsPage me={me} />;
  const m = /^\/algorithms\/([^/]+)\/([^/]+)(?:\/(source|versions|run))?$/.exec(rest);
  if (m) return <AlgorithmPage me={me} owner={decodeURIComponent(m[1])} name={decodeURIComponent(m[2])} tab={(m[3] as 'source' | 'versions' | 'run' | undefined) ?? 'source'} />;
  if (rest === '/admin/insights') return <AdminInsights />;
  if (rest === '/admin/insights/live') return <LiveTailPage />;
  if (rest === '/api') return <ApiDocs />;
  return (
    <section class="card">
      <h1>Not found</h1>
      <p>There is no console page at this address. <Link href={home(me)}>Go to the start page</Link>.</p>
    </section>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the shell's "Loading…" line
render(<App />, root);
