import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { fmtTime } from '../ui';
import { isForbidden } from './admin-refusal';

interface Status {
  configured: boolean;
  relay_enabled: boolean;
  connected: boolean;
  last_error: { reason: string; message: string } | null;
  last_error_at: string | null;
  backlog: number;
  oldest_undelivered_age_seconds: number | null;
  delivered: number;
  failed: number;
  dropped: number;
}

const INTERVAL_MS = 2000; // at most one status request per 2 s, and only after the previous answer

export function StatusPanel(props: { onForbidden: (err: unknown) => void }) {
  const [status, setStatus] = useState<Status | undefined>();
  const [at, setAt] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let timer: number | undefined;
    let live = true;
    const tick = async () => {
      try {
        const s = await api<Status>('GET', '/v1/admin/insights-connection/status');
        if (!live) return;
        setStatus(s);
        setAt(new Date().toISOString());
        setError(undefined);
      } catch (err) {
        if (!live) return;
        if (isForbidden(err)) return props.onForbidden(err);
        setError(errorText(err));
      }
      if (live) timer = window.setTimeout(tick, INTERVAL_MS);
    };
    void tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, []);

  const state = !status ? 'Loading…' : !status.configured ? 'Not configured' : status.connected ? 'Connected' : 'Not connected';
  return (
    <section class="card status" aria-label="Pipeline status" data-testid="status-panel">
      <div class="row-between">
        <h2>Pipeline status</h2>
        <span class={`pill ${status?.connected ? 'on' : 'off'}`} data-testid="status-connected">{state}</span>
      </div>
      {error && <p class="error-box" role="alert">{error}</p>}
      {status && (
        <dl class="stats">
          <div><dt>Backlog</dt><dd data-testid="status-backlog">{status.backlog}</dd></div>
          <div><dt>Oldest undelivered</dt><dd>{status.oldest_undelivered_age_seconds === null ? '—' : `${status.oldest_undelivered_age_seconds.toFixed(1)} s`}</dd></div>
          <div><dt>Delivered</dt><dd data-testid="status-delivered">{status.delivered}</dd></div>
          <div><dt>Failed</dt><dd data-testid="status-failed">{status.failed}</dd></div>
          <div><dt>Dropped</dt><dd>{status.dropped}</dd></div>
          <div class="wide"><dt>Last error</dt><dd data-testid="status-last-error">{status.last_error ? `${status.last_error.reason}: ${status.last_error.message} (${fmtTime(status.last_error_at)})` : 'none'}</dd></div>
        </dl>
      )}
      {status && !status.relay_enabled && <p class="notice">The relay is disabled on this instance (INSIGHTS_RELAY_ENABLED=false); another instance delivers.</p>}
      <p class="muted small">Updates every 2 s{at ? `; last at ${new Date(at).toLocaleTimeString()}` : ''}.</p>
    </section>
  );
}
