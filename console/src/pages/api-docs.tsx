import { useEffect, useRef, useState } from 'preact/hooks';

// The API reference: openapi.yaml (served at /openapi.json) rendered by the Swagger UI bundle that
// Beacon serves itself (swagger-ui-dist from npm; no CDN). Read-only: "Try it out" is off, so the
// key never leaves the console's own calls.

declare global {
  interface Window {
    SwaggerUIBundle?: (opts: Record<string, unknown>) => unknown;
  }
}

let loading: Promise<void> | undefined;
function loadSwagger(): Promise<void> {
  loading ??= new Promise<void>((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/console/assets/swagger-ui/swagger-ui.css';
    document.head.append(css);
    const s = document.createElement('script');
    s.src = '/console/assets/swagger-ui/swagger-ui-bundle.js';
    s.onload = () => resolve();
    s.onerror = () => {
      loading = undefined;
      reject(new Error('the API reference renderer could not be loaded'));
    };
    document.head.append(s);
  });
  return loading;
}

export function ApiDocs() {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    loadSwagger()
      .then(() => {
        if (!host.current || !window.SwaggerUIBundle) return;
        window.SwaggerUIBundle({ url: '/openapi.json', domNode: host.current, supportedSubmitMethods: [], deepLinking: false, docExpansion: 'list', defaultModelsExpandDepth: 0 });
      })
      .catch((err: Error) => setError(err.message));
  }, []);
  return (
    <section class="card api-docs">
      <div class="row-between">
        <h1>API reference</h1>
        <span><a href="/openapi.yaml">openapi.yaml</a> · <a href="/openapi.json">openapi.json</a></span>
      </div>
      {error && <p class="error-box" role="alert">{error}</p>}
      <div ref={host} class="swagger-host" data-testid="api-docs" />
    </section>
  );
}
