import type { ComponentChildren } from 'preact';

// Small shared pieces. Everything that came from the API is rendered as text by Preact (never
// dangerouslySetInnerHTML): names, results, notes and metric names stay inert.

export function Field(props: { id: string; label: string; error?: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !props.error && <p class="hint">{props.hint}</p>}
      {props.error && <p class="field-error" id={`${props.id}-error`} role="alert">{props.error}</p>}
    </div>
  );
}

export function ErrorBox(props: { error?: string }) {
  return props.error ? <p class="error-box" role="alert">{props.error}</p> : null;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export const fmtTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
