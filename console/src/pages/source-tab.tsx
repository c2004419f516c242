import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import type { Build, PagedBuilds, SourceTree, Version } from '../types';
import { ErrorBox, fmtTime } from '../ui';

type BuildView = { state: 'idle' } | { state: 'running'; since: number; build?: Build } | { state: 'done'; ok: boolean; hash: string; log: string };

export function SourceTab(props: { apiBase: string; onBuilt: () => void }) {
  const { apiBase } = props;
  const [tree, setTree] = useState<SourceTree | undefined>();
  const [files, setFiles] = useState<Record<string, string>>({});
  const [current, setCurrent] = useState<string>('');
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const [newFile, setNewFile] = useState('');
  const [build, setBuild] = useState<BuildView>({ state: 'idle' });
  const poll = useRef<number | undefined>();

  useEffect(() => {
    api<SourceTree>('GET', `${apiBase}/source`)
      .then((t) => {
        setTree(t);
        setFiles(t.files);
        setCurrent(t.files[t.entry_point] !== undefined ? t.entry_point : Object.keys(t.files)[0] ?? '');
      })
      .catch((err) => setError(errorText(err)));
    return () => window.clearInterval(poll.current);
  }, [apiBase]);

  async function save(): Promise<boolean> {
    setError(undefined);
    setSaved(undefined);
    try {
      const t = await api<SourceTree>('PUT', `${apiBase}/source`, { files });
      setTree(t);
      setDirty(false);
      setSaved(`Saved ${Object.keys(t.files).length} file(s) at ${fmtTime(t.updated_at)}.`);
      return true;
    } catch (err) {
      setError(err instanceof ApiError ? `The source was not saved: ${err.message}` : errorText(err));
      return false;
    }
  }

  async function compile() {
    if (dirty && !(await save())) return;
    setBuild({ state: 'running', since: Date.now() });
    // The compile call answers when the build is done; meanwhile the newest build's status is polled.
    window.clearInterval(poll.current);
    poll.current = window.setInterval(async () => {
      try {
        const p = await api<PagedBuilds>('GET', `${apiBase}/builds?limit=1`);
        const b = p.results[0];
        setBuild((v) => (v.state === 'running' ? { ...v, build: b } : v));
      } catch {
        /* the answer to compile tells the outcome */
      }
    }, 1000);
    try {
      const v = await api<Version>('POST', `${apiBase}/compile`, {});
      setBuild({ state: 'done', ok: v.compilation?.successful ?? false, hash: v.version_info.git_hash, log: v.compilation?.output ?? '' });
      props.onBuilt();
    } catch (err) {
      setBuild({ state: 'done', ok: false, hash: '', log: errorText(err) });
    } finally {
      window.clearInterval(poll.current);
    }
  }

  function addFile(e: Event) {
    e.preventDefault();
    const p = newFile.trim();
    if (!p || files[p] !== undefined) return;
    setFiles({ ...files, [p]: '' });
    setCurrent(p);
    setNewFile('');
    setDirty(true);
  }

  if (!tree) return <section class="card"><ErrorBox error={error} />{!error && <p>Loading the source…</p>}</section>;
  const names = Object.keys(files).sort();
  return (
    <section class="card">
      <div class="source-layout">
        <aside class="file-list">
          <h2>Files</h2>
          <ul>
            {names.map((n) => (
              <li key={n}><button type="button" class={n === current ? 'file active' : 'file'} onClick={() => setCurrent(n)}>{n}{n === tree.entry_point ? ' (entry)' : ''}</button></li>
            ))}
          </ul>
          <form onSubmit={addFile} class="inline-form">
            <label for="new-file" class="sr-only">New file path</label>
            <input id="new-file" placeholder="src/helper.py" value={newFile} onInput={(e) => setNewFile(e.currentTarget.value)} />
            <button type="submit" class="secondary">Add file</button>
          </form>
        </aside>
        <div class="editor">
          <label for="source-editor">{current || 'No file'}</label>
          <textarea
            id="source-editor"
            spellcheck={false}
            value={files[current] ?? ''}
            disabled={!current}
            onInput={(e) => {
              setFiles({ ...files, [current]: e.currentTarget.value });
              setDirty(true);
            }}
            onKeyDown={(e) => {
              if (e.key !== 'Tab') return;
              e.preventDefault();
              const t = e.currentTarget;
              const s = t.selectionStart;
              t.setRangeText('    ', s, t.selectionEnd, 'end');
              setFiles({ ...files, [current]: t.value });
              setDirty(true);
            }}
          />
          <ErrorBox error={error} />
          {saved && !dirty && <p class="ok" role="status">{saved}</p>}
          <div class="actions">
            <button type="button" class="secondary" onClick={save} disabled={!dirty}>Save</button>
            <button type="button" onClick={compile} disabled={build.state === 'running'}>{build.state === 'running' ? 'Compiling…' : dirty ? 'Save and compile' : 'Compile'}</button>
          </div>
        </div>
      </div>
      <BuildPanel view={build} />
    </section>
  );
}

function BuildPanel({ view }: { view: BuildView }) {
  if (view.state === 'idle') return null;
  if (view.state === 'running') {
    return (
      <div class="build running" role="status" aria-live="polite">
        <h3>Build in progress</h3>
        <p>{view.build && view.build.status === 'in-progress' ? `Build ${view.build.build_id.slice(0, 8)} started ${fmtTime(view.build.started_at)}: checking the source…` : 'Snapshotting the source and starting the build…'}</p>
      </div>
    );
  }
  return (
    <div class={`build ${view.ok ? 'succeeded' : 'failed'}`} role="status" aria-live="polite">
      <h3 data-testid="build-status">{view.ok ? 'Build succeeded' : 'Build failed'}</h3>
      {view.hash && <p class="mono">git hash {view.hash}</p>}
      <pre class="log" data-testid="build-log">{view.log || '(no output)'}</pre>
    </div>
  );
}
