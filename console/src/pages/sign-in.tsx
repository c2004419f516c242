import { useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import type { Me } from '../main';

export function SignIn(props: { notice?: string; onSignedIn: (me: Me, key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    const k = key.trim();
    if (!k) return setError('Enter an API key.');
    setBusy(true);
    try {
      const me = await api<Me>('GET', '/v1/whoami', undefined, { key: k });
      setKey('');
      props.onSignedIn(me, k);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? `This key was not accepted: it is wrong or was revoked (${err.message})` : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form class="card" onSubmit={submit} autocomplete="off" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Beacon</h1>
        <p class="muted">Use an API key (an algorithm key, or a platform admin key for the admin pages). It is kept in this browser tab only, until you sign out or close the tab.</p>
        {props.notice && <p class="notice" role="status">{props.notice}</p>}
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" value={key} onInput={(e) => setKey(e.currentTarget.value)} autocomplete="off" spellcheck={false} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'api-key-error' : undefined} />
        {error && <p id="api-key-error" class="field-error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
