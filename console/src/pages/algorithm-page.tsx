import { useEffect, useState } from 'preact/hooks';
import { api, enc, errorText } from '../api';
import type { Me } from '../main';
import { BASE, Link } from '../router';
import type { Algorithm } from '../types';
import { ErrorBox } from '../ui';
import { RunTab } from './run-tab';
import { SourceTab } from './source-tab';
import { VersionsTab } from './versions-tab';

export type Tab = 'source' | 'versions' | 'run';

export function AlgorithmPage(props: { me: Me; owner: string; name: string; tab: Tab }) {
  const { owner, name, tab } = props;
  const [algo, setAlgo] = useState<Algorithm | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [reload, setReload] = useState(0);
  const base = `${BASE}/algorithms/${enc(owner)}/${enc(name)}`;
  const apiBase = `/v1/algorithms/${enc(owner)}/${enc(name)}`;

  useEffect(() => {
    api<Algorithm>('GET', apiBase).then(setAlgo).catch((err) => setError(errorText(err)));
  }, [apiBase, reload]);

  const tabs: Array<[Tab, string]> = [['source', 'Source'], ['versions', 'Versions'], ['run', 'Run']];
  return (
    <>
      <section class="card">
        <p class="crumbs"><Link href={`${BASE}/algorithms`}>Algorithms</Link> / {owner}</p>
        <h1 class="algo-title">{name}</h1>
        {algo && <p class="muted algo-label">{algo.details.label} · {algo.settings.language} · {algo.settings.algorithm_callability}</p>}
        <ErrorBox error={error} />
        <nav class="tabs" aria-label="Algorithm">
          {tabs.map(([t, label]) => (
            <Link key={t} href={`${base}/${t}`} class={t === tab ? 'tab active' : 'tab'} aria-current={t === tab ? 'page' : undefined}>{label}</Link>
          ))}
        </nav>
      </section>
      {!error && tab === 'source' && <SourceTab apiBase={apiBase} onBuilt={() => setReload((n) => n + 1)} />}
      {!error && tab === 'versions' && <VersionsTab apiBase={apiBase} algo={algo} onPublished={() => setReload((n) => n + 1)} />}
      {!error && tab === 'run' && <RunTab owner={owner} name={name} apiBase={apiBase} />}
    </>
  );
}
