import { useEffect, useRef, useState } from 'preact/hooks';
import { api, showFormError } from '../api';
import type { Version } from '../types';
import { ErrorBox, Field } from '../ui';

export function PublishDialog(props: { apiBase: string; callability: string; onClose: () => void; onPublished: (v: Version) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [form, setForm] = useState({ type: 'minor', notes: '', sample: '', callability: props.callability, insights: false });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    ref.current?.showModal();
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setFields({});
    try {
      const v = await api<Version>('POST', `${props.apiBase}/versions`, {
        settings: { algorithm_callability: form.callability, insights_enabled: form.insights },
        version_info: { version_type: form.type, release_notes: form.notes, sample_input: form.sample === '' ? null : form.sample },
      });
      props.onPublished(v);
    } catch (err) {
      showFormError(err, setFields, setError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="publish-title" onClose={props.onClose} onCancel={props.onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="publish-title">Publish a version</h2>
        <p class="muted">Publishes the newest successful build.</p>
        <ErrorBox error={error} />
        <fieldset class="field">
          <legend>Version type</legend>
          {(['major', 'minor', 'revision'] as const).map((t) => (
            <label key={t} class="radio">
              <input type="radio" name="version_type" value={t} checked={form.type === t} onChange={() => setForm({ ...form, type: t })} /> {t[0].toUpperCase() + t.slice(1)}
            </label>
          ))}
          {fields['version_info.version_type'] && <p class="field-error" role="alert">{fields['version_info.version_type']}</p>}
        </fieldset>
        <Field id="release-notes" label="Release notes" error={fields['version_info.release_notes']}>
          <textarea id="release-notes" rows={3} value={form.notes} onInput={(e) => setForm({ ...form, notes: e.currentTarget.value })} />
        </Field>
        <Field id="sample-input" label="Sample input" error={fields['version_info.sample_input']}>
          <input id="sample-input" value={form.sample} onInput={(e) => setForm({ ...form, sample: e.currentTarget.value })} />
        </Field>
        <Field id="publish-callability" label="Callability" error={fields['settings.algorithm_callability']}>
          <select id="publish-callability" value={form.callability} onChange={(e) => setForm({ ...form, callability: e.currentTarget.value })}>
            <option value="private">Private</option>
            <option value="public">Public</option>
          </select>
        </Field>
        <label class="toggle">
          <input type="checkbox" role="switch" checked={form.insights} onChange={(e) => setForm({ ...form, insights: e.currentTarget.checked })} />
          <span>Enable Algorithmia Insights</span>
        </label>
        <p class="hint">Each call of this version then sends its metrics to the cluster's Insights Kafka topic.</p>
        {fields['settings.insights_enabled'] && <p class="field-error" role="alert">{fields['settings.insights_enabled']}</p>}
        <div class="actions">
          <button type="button" class="secondary" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" disabled={busy}>{busy ? 'Publishing…' : 'Publish'}</button>
        </div>
      </form>
    </dialog>
  );
}
