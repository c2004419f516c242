import { useEffect, useState } from 'preact/hooks';
import { api, enc, errorText } from '../api';
import type { PagedVersions, Version } from '../types';
import { Empty, ErrorBox } from '../ui';

interface CallResult {
  result?: unknown;
  error?: { message: string; error_type?: string; stacktrace?: string };
  metadata?: { content_type?: string; duration?: number };
  request_id?: string;
}

export function RunTab(props: { owner: string; name: string; apiBase: string }) {
  const [versions, setVersions] = useState<Version[] | undefined>();
  const [version, setVersion] = useState('');
  const [kind, setKind] = useState<'text' | 'json'>('text');
  const [input, setInput] = useState('');
  const [out, setOut] = useState<CallResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<PagedVersions>('GET', `${props.apiBase}/versions?limit=100&published=true`)
      .then((p) => {
        setVersions(p.results);
        setVersion(p.results[0]?.version_info.semantic_version ?? '');
      })
      .catch((err) => setError(errorText(err)));
  }, [props.apiBase]);

  async function run(e: Event) {
    e.preventDefault();
    setError(undefined);
    setOut(undefined);
    if (kind === 'json') {
      try {
        JSON.parse(input);
      } catch (err) {
        return setError(`The input is not valid JSON: ${errorText(err)}`);
      }
    }
    setBusy(true);
    try {
      const path = `/v1/algo/${enc(props.owner)}/${enc(props.name)}/${enc(version)}`;
      setOut(await api<CallResult>('POST', path, undefined, { raw: input, contentType: kind === 'json' ? 'application/json' : 'text/plain' }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (versions && versions.length === 0) {
    return <section class="card"><Empty><p><strong>No published version to call.</strong> Compile the source, then publish a version on the Versions tab.</p></Empty></section>;
  }
  return (
    <section class="card">
      <h2>Run</h2>
      <form onSubmit={run} class="run-form">
        <div class="field">
          <label for="run-version">Version</label>
          <select id="run-version" value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
            {(versions ?? []).map((v) => (
              <option key={v.version_info.git_hash} value={v.version_info.semantic_version}>
                {v.version_info.semantic_version}{v.version_info.insights_enabled ? ' (Insights)' : ''}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="field">
          <legend>Input type</legend>
          <label class="radio"><input type="radio" name="kind" checked={kind === 'text'} onChange={() => setKind('text')} /> Text</label>
          <label class="radio"><input type="radio" name="kind" checked={kind === 'json'} onChange={() => setKind('json')} /> JSON</label>
        </fieldset>
        <div class="field">
          <label for="run-input">Input</label>
          <textarea id="run-input" rows={4} value={input} onInput={(e) => setInput(e.currentTarget.value)} spellcheck={false} />
        </div>
        <div class="actions"><button type="submit" disabled={busy || !version}>{busy ? 'Running…' : 'Run'}</button></div>
      </form>
      <ErrorBox error={error} />
      {out && (
        <div class={out.error ? 'result failed' : 'result'} data-testid="run-result">
          <dl class="facts">
            <dt>Request id</dt><dd class="mono" data-testid="run-request-id">{out.request_id ?? '—'}</dd>
            <dt>Duration</dt><dd data-testid="run-duration">{out.metadata?.duration !== undefined ? `${(out.metadata.duration * 1000).toFixed(1)} ms` : '—'}</dd>
            <dt>Content type</dt><dd>{out.metadata?.content_type ?? '—'}</dd>
          </dl>
          {out.error
            ? <pre class="log" data-testid="run-output">{`${out.error.error_type ?? 'Error'}: ${out.error.message}\n${out.error.stacktrace ?? ''}`}</pre>
            : <pre class="log" data-testid="run-output">{typeof out.result === 'string' ? out.result : JSON.stringify(out.result, null, 2)}</pre>}
        </div>
      )}
    </section>
  );
}
