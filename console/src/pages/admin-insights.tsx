import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText, showFormError } from '../api';
import { BASE, Link } from '../router';
import { Empty, ErrorBox, Field, fmtTime } from '../ui';
import { AdminRefusal, isForbidden } from './admin-refusal';
import { StatusPanel } from './status-panel';

const CONN = '/v1/admin/insights-connection';

interface Connection {
  connection_type: string;
  broker_url: string;
  topic: string;
  broker_username?: string;
  sasl_mechanism?: string;
  ca_certificate?: string;
  generation: number;
  updated_at: string;
}

interface TestResult {
  ok: boolean;
  reason: string;
  message: string;
}

const TYPES: Array<[string, string]> = [
  ['kafka_sasl_ssl', 'SASL/SCRAM over TLS'],
  ['kafka_unauthenticated_plaintext', 'Unencrypted/plaintext'],
  ['kafka_sasl_plaintext', 'SASL/SCRAM without TLS'],
];

export const REASONS: Record<string, string> = {
  ok: 'Connected',
  unreachable: 'Broker unreachable',
  authentication_failed: 'Authentication failed',
  tls_verification_failed: 'TLS verification failed',
  topic_missing: 'Topic missing',
  not_authorised: 'Not authorised',
  message_too_large: 'Message too large',
  broker_error: 'Broker error',
  database_unavailable: 'Database unavailable',
  configuration: 'Configuration problem',
};

const blank = { connection_type: 'kafka_sasl_ssl', broker_url: '', topic: '', broker_username: '', broker_password: '', sasl_mechanism: 'SCRAM-SHA-512', ca_certificate: '' };

export function AdminInsights() {
  const [stored, setStored] = useState<Connection | null | undefined>();
  const [refused, setRefused] = useState<unknown>();
  const [form, setForm] = useState(blank);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [test, setTest] = useState<TestResult | undefined>();
  const [busy, setBusy] = useState<string | undefined>();

  function load() {
    api<Connection>('GET', CONN)
      .then((c) => {
        setStored(c);
        setForm({ ...blank, ...c, broker_username: c.broker_username ?? '', sasl_mechanism: c.sasl_mechanism ?? 'SCRAM-SHA-512', ca_certificate: c.ca_certificate ?? '', broker_password: '' });
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 404) setStored(null);
        else if (isForbidden(err)) setRefused(err);
        else setError(errorText(err));
      });
  }
  useEffect(load, []);

  if (refused) return <AdminRefusal error={refused} />;
  const sasl = form.connection_type !== 'kafka_unauthenticated_plaintext';
  const tls = form.connection_type === 'kafka_sasl_ssl';

  function body() {
    const b: Record<string, string> = { connection_type: form.connection_type, broker_url: form.broker_url, topic: form.topic };
    if (sasl) Object.assign(b, { broker_username: form.broker_username, broker_password: form.broker_password, sasl_mechanism: form.sasl_mechanism });
    if (tls && form.ca_certificate.trim()) b.ca_certificate = form.ca_certificate;
    return b;
  }

  async function act(name: string, work: () => Promise<void>) {
    setBusy(name);
    setError(undefined);
    setMessage(undefined);
    setFields({});
    try {
      await work();
    } catch (err) {
      showFormError(err, setFields, setError);
    } finally {
      setBusy(undefined);
    }
  }

  const save = (e: Event) => {
    e.preventDefault();
    void act('save', async () => {
      const c = await api<Connection>('POST', CONN, body());
      setStored(c);
      setForm({ ...form, broker_password: '' });
      setMessage(`Saved (generation ${c.generation}). The relay uses it from now on.`);
    });
  };
  // With a password typed in, the form's candidate is tested without saving it; otherwise the stored one.
  const runTest = () =>
    act('test', async () => {
      setTest(undefined);
      const candidate = form.broker_password !== '' || !stored || !sasl;
      setTest(await api<TestResult>('POST', `${CONN}/test`, candidate ? body() : {}));
    });
  const remove = () =>
    act('delete', async () => {
      if (!window.confirm('Delete the Insights connection? Payloads keep accumulating in the outbox until a new one is set.')) return;
      await api('DELETE', CONN);
      setStored(null);
      setForm(blank);
      setTest(undefined);
      setMessage('Connection deleted. Delivery is paused; payloads wait in the outbox.');
    });
  const set = (k: keyof typeof blank) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <>
      <StatusPanel onForbidden={setRefused} />
      <section class="card">
        <div class="row-between">
          <h1>Algorithmia Insights</h1>
          <Link href={`${BASE}/admin/insights/live`}>Live tail →</Link>
        </div>
        {stored === null && (
          <Empty><p><strong>No broker connection yet.</strong> Enter your Kafka broker below, test it, then save: every call of an Insights-enabled version then sends its metrics to the topic.</p></Empty>
        )}
        {stored && <p class="muted">Stored connection, generation {stored.generation}, updated {fmtTime(stored.updated_at)}. The password is never shown.</p>}
        <form onSubmit={save} class="grid-form" noValidate autocomplete="off">
          <ErrorBox error={error} />
          <Field id="connection-type" label="Connection type" error={fields.connection_type}>
            <select id="connection-type" value={form.connection_type} onChange={set('connection_type')}>
              {TYPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
            </select>
          </Field>
          <Field id="broker-url" label="Kafka broker URL(s)" error={fields.broker_url} hint="host:port, comma-separated">
            <input id="broker-url" value={form.broker_url} onInput={set('broker_url')} placeholder="kafka-1.example.com:9093,kafka-2.example.com:9093" />
          </Field>
          <Field id="topic" label="Topic" error={fields.topic}>
            <input id="topic" value={form.topic} onInput={set('topic')} placeholder="insights" />
          </Field>
          {sasl && (
            <>
              <Field id="sasl-mechanism" label="Mechanism" error={fields.sasl_mechanism}>
                <select id="sasl-mechanism" value={form.sasl_mechanism} onChange={set('sasl_mechanism')}>
                  <option value="SCRAM-SHA-512">SCRAM-SHA-512</option>
                  <option value="SCRAM-SHA-256">SCRAM-SHA-256</option>
                  <option value="PLAIN">PLAIN</option>
                </select>
              </Field>
              <Field id="broker-username" label="User" error={fields.broker_username}>
                <input id="broker-username" value={form.broker_username} onInput={set('broker_username')} autocomplete="off" />
              </Field>
              <Field id="broker-password" label="Password" error={fields.broker_password} hint={stored ? 'Stored and never shown: type it again to save changes or to test this form.' : undefined}>
                <input id="broker-password" type="password" value={form.broker_password} onInput={set('broker_password')} autocomplete="new-password" />
              </Field>
            </>
          )}
          {tls && (
            <Field id="ca-certificate" label="CA certificate (PEM, optional)" error={fields.ca_certificate} hint="Without one, the system's CAs verify the broker.">
              <textarea id="ca-certificate" rows={4} value={form.ca_certificate} onInput={set('ca_certificate')} spellcheck={false} placeholder="-----BEGIN CERTIFICATE-----" />
            </Field>
          )}
          <div class="actions wide">
            <button type="submit" disabled={busy !== undefined}>{busy === 'save' ? 'Saving…' : 'Save connection'}</button>
            <button type="button" class="secondary" onClick={runTest} disabled={busy !== undefined}>{busy === 'test' ? 'Testing…' : 'Test connection'}</button>
            {stored && <button type="button" class="danger" onClick={remove} disabled={busy !== undefined}>Delete connection</button>}
          </div>
          {message && <p class="ok wide" role="status">{message}</p>}
          {test && (
            <div class={`test-result wide ${test.ok ? 'ok' : 'bad'}`} role="status" data-testid="test-result">
              <strong data-testid="test-reason">{REASONS[test.reason] ?? test.reason}</strong> <span class="mono">({test.reason})</span>
              <p>{test.message}</p>
            </div>
          )}
        </form>
      </section>
    </>
  );
}
