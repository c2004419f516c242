import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, enc, errorText } from '../api';
import type { Me } from '../main';
import { BASE, Link, navigate } from '../router';
import type { Algorithm, PagedAlgorithms } from '../types';
import { Empty, ErrorBox, Field } from '../ui';

interface Language {
  name: string;
  display_name: string;
}

export function AlgorithmsPage({ me }: { me: Me }) {
  const [items, setItems] = useState<Algorithm[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    api<PagedAlgorithms>('GET', `/v1/users/${enc(me.username)}/algorithms?limit=100`)
      .then((p) => setItems(p.results))
      .catch((err) => setError(refusal(err)));
  }, [me.username]);

  return (
    <>
      <section class="card">
        <h1>Algorithms</h1>
        <ErrorBox error={error} />
        {items && items.length === 0 && (
          <Empty>
            <p><strong>No algorithms yet.</strong> Create one below: give it a name and a language, then edit its source, compile and publish it.</p>
          </Empty>
        )}
        {items && items.length > 0 && (
          <div class="table-wrap">
            <table>
              <thead><tr><th>Name</th><th>Label</th><th>Language</th><th>Callability</th></tr></thead>
              <tbody>
                {items.map((a) => (
                  <tr key={a.id}>
                    <td><Link href={`${BASE}/algorithms/${enc(me.username)}/${enc(a.name)}/source`}>{a.name}</Link></td>
                    <td class="label-cell">{a.details.label}</td>
                    <td>{a.settings.language}</td>
                    <td>{a.settings.algorithm_callability}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {!error && <CreateAlgorithm me={me} />}
    </>
  );
}

function refusal(err: unknown): string {
  if (err instanceof ApiError && err.status === 403) return `Refused by the API: ${err.message}`;
  return errorText(err);
}

function CreateAlgorithm({ me }: { me: Me }) {
  const [languages, setLanguages] = useState<Language[]>([]);
  const [form, setForm] = useState({ name: '', label: '', language: 'python3', callability: 'private' });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<Language[]>('GET', '/v1/algorithm-environments/edge/languages').then(setLanguages).catch(() => undefined);
  }, []);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      const details = form.label ? { label: form.label } : {};
      await api('POST', `/v1/algorithms/${enc(me.username)}`, {
        name: form.name,
        details,
        settings: { language: form.language, source_visibility: 'closed', license: 'apl', network_access: 'full', pipeline_enabled: false },
      });
      // A new algorithm starts private (the API's rule); public is the default for its next publish.
      if (form.callability === 'public') {
        await api('PUT', `/v1/algorithms/${enc(me.username)}/${enc(form.name)}`, { settings: { algorithm_callability: 'public' } });
      }
      navigate(`${BASE}/algorithms/${enc(me.username)}/${enc(form.name)}/source`);
    } catch (err) {
      if (err instanceof ApiError) {
        const f = err.fields();
        if (!f.name && err.code === 1002) f.name = err.message;
        if (err.code === 4001) f['settings.language'] = err.message;
        setFields(f);
        if (Object.keys(f).length === 0) setError(refusal(err));
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card">
      <h2>Create an algorithm</h2>
      <form onSubmit={submit} class="grid-form" noValidate>
        <ErrorBox error={error} />
        <Field id="algo-name" label="Name" error={fields.name} hint="Letters, digits and underscores; starts with a letter.">
          <input id="algo-name" name="name" value={form.name} onInput={set('name')} autocomplete="off" />
        </Field>
        <Field id="algo-label" label="Label (optional)" error={fields['details.label']}>
          <input id="algo-label" name="label" value={form.label} onInput={set('label')} autocomplete="off" />
        </Field>
        <Field id="algo-language" label="Language / environment" error={fields['settings.language']}>
          <select id="algo-language" name="language" value={form.language} onChange={set('language')}>
            {(languages.length ? languages : [{ name: 'python3', display_name: 'Python 3' }]).map((l) => (
              <option key={l.name} value={l.name}>{l.display_name}</option>
            ))}
          </select>
        </Field>
        <Field id="algo-callability" label="Callability" error={fields['settings.algorithm_callability']}>
          <select id="algo-callability" name="callability" value={form.callability} onChange={set('callability')}>
            <option value="private">Private (only you)</option>
            <option value="public">Public (any key with access)</option>
          </select>
        </Field>
        <div class="actions"><button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create algorithm'}</button></div>
      </form>
    </section>
  );
}
