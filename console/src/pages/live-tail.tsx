import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api';
import { BASE, Link } from '../router';
import { Empty, fmtTime } from '../ui';
import { AdminRefusal, isForbidden } from './admin-refusal';

interface Entry {
  seq: number;
  state: 'waiting' | 'delivered';
  request_id: string;
  algorithm: string;
  version: string;
  at: string;
  payload: Record<string, unknown>;
}

const POLL_MS = 1000;
const SHOWN = 100;

export function LiveTailPage() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [filter, setFilter] = useState('');
  const [applied, setApplied] = useState('');
  const [paused, setPaused] = useState(false);
  const [refused, setRefused] = useState<unknown>();
  const [error, setError] = useState<string | undefined>();
  const [filterError, setFilterError] = useState<string | undefined>();
  const last = useRef(0);

  useEffect(() => {
    last.current = 0;
    setEntries([]);
    if (paused) return;
    let live = true;
    let timer: number | undefined;
    const tick = async () => {
      try {
        const q = new URLSearchParams({ after: String(last.current) });
        if (applied) q.set('algorithm', applied);
        const r = await api<{ entries: Entry[]; last_seq: number }>('GET', `/v1/admin/insights/live-tail?${q}`);
        if (!live) return;
        last.current = r.last_seq;
        setError(undefined);
        if (r.entries.length > 0) {
          setEntries((old) => {
            const fresh = new Set(r.entries.map((e) => e.request_id));
            return [...r.entries, ...old.filter((e) => !fresh.has(e.request_id))].slice(0, SHOWN);
          });
        }
      } catch (err) {
        if (!live) return;
        if (isForbidden(err)) return setRefused(err);
        if (err instanceof ApiError && err.status === 400) {
          setFilterError(err.fields().algorithm ?? err.message);
          return;
        }
        setError(errorText(err));
      }
      if (live) timer = window.setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [applied, paused]);

  if (refused) return <AdminRefusal error={refused} />;
  return (
    <section class="card">
      <div class="row-between">
        <h1>Live tail</h1>
        <Link href={`${BASE}/admin/insights`}>← Connection and status</Link>
      </div>
      <p class="muted">The last payloads this instance stored ("waiting" in the outbox) or delivered to Kafka, newest first. Kept in memory, the last 200 only.</p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setFilterError(undefined);
          setApplied(filter.trim());
        }}
      >
        <label for="tail-filter">Algorithm</label>
        <input id="tail-filter" placeholder="owner/name" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-invalid={filterError ? 'true' : undefined} />
        <button type="submit" class="secondary">Filter</button>
        <button type="button" class="secondary" onClick={() => setPaused(!paused)}>{paused ? 'Resume' : 'Pause'}</button>
      </form>
      {filterError && <p class="field-error" role="alert">{filterError}</p>}
      {error && <p class="error-box" role="alert">{error}</p>}
      <p class="muted small" aria-live="polite">{paused ? 'Paused.' : `Streaming${applied ? ` ${applied}` : ''}: checks every second.`}</p>
      {entries.length === 0 && (
        <Empty><p><strong>No payloads yet.</strong> Call an algorithm version that has Insights enabled; its payload shows up here as soon as it is stored, and again when Kafka has it.</p></Empty>
      )}
      <ol class="tail" data-testid="live-tail">
        {entries.map((e) => (
          <li key={e.request_id} class={`tail-entry ${e.state}`} data-request-id={e.request_id}>
            <div class="tail-head">
              <span class={`badge ${e.state === 'delivered' ? 'on' : 'wait'}`}>{e.state}</span>
              <strong class="tail-algo">{e.algorithm}</strong> <span>{e.version}</span>
              <span class="mono small">{e.request_id}</span>
              <span class="muted small">{fmtTime(e.at)}</span>
            </div>
            <pre class="log">{JSON.stringify(e.payload, null, 2)}</pre>
          </li>
        ))}
      </ol>
    </section>
  );
}
