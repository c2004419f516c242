import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import type { Algorithm, PagedVersions, Version } from '../types';
import { Empty, ErrorBox, fmtTime } from '../ui';
import { PublishDialog } from './publish-dialog';

export function VersionsTab(props: { apiBase: string; algo?: Algorithm; onPublished: () => void }) {
  const { apiBase } = props;
  const [versions, setVersions] = useState<Version[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [onlyInsights, setOnlyInsights] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api<PagedVersions>('GET', `${apiBase}/versions?limit=100`)
      .then((p) => setVersions(p.results))
      .catch((err) => setError(errorText(err)));
  }, [apiBase, reload]);

  const shown = (versions ?? []).filter((v) => !onlyInsights || v.version_info.insights_enabled);
  return (
    <section class="card">
      <div class="row-between">
        <h2>Versions</h2>
        <button type="button" onClick={() => setPublishing(true)}>Publish…</button>
      </div>
      <label class="check">
        <input type="checkbox" checked={onlyInsights} onChange={(e) => setOnlyInsights(e.currentTarget.checked)} /> Only versions with Insights enabled
      </label>
      <ErrorBox error={error} />
      {versions && shown.length === 0 && (
        <Empty>
          {versions.length === 0
            ? <p><strong>Nothing published yet.</strong> Compile the source (Source tab), then publish a version here.</p>
            : <p>No version has Insights enabled. Publish one with "Enable Algorithmia Insights" switched on.</p>}
        </Empty>
      )}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table data-testid="versions-table">
            <thead><tr><th>Version</th><th>Insights</th><th>Git hash</th><th>Callability</th><th>Published</th><th>Release notes</th></tr></thead>
            <tbody>
              {shown.map((v) => (
                <tr key={v.version_info.git_hash}>
                  <td>{v.version_info.semantic_version ?? <span class="muted">unpublished build</span>}</td>
                  <td><span class={v.version_info.insights_enabled ? 'badge on' : 'badge off'}>{v.version_info.insights_enabled ? 'Enabled' : 'Disabled'}</span></td>
                  <td class="mono" title={v.version_info.git_hash}>{v.version_info.git_hash.slice(0, 12)}</td>
                  <td>{v.settings.algorithm_callability}</td>
                  <td>{fmtTime(v.version_info.published_at)}</td>
                  <td class="notes">{v.version_info.release_notes ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {publishing && (
        <PublishDialog
          apiBase={apiBase}
          callability={props.algo?.settings.algorithm_callability ?? 'private'}
          onClose={() => setPublishing(false)}
          onPublished={() => {
            setPublishing(false);
            setReload((n) => n + 1);
            props.onPublished();
          }}
        />
      )}
    </section>
  );
}
