import path from 'node:path';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { consoleBundler } from './console-bundle';
import { repoRoot } from '../platform/repo-root';

// The web console: one HTML shell for every /console/... URL (the browser code routes), its bundle,
// and the bundled Swagger UI for the API page. Static files, not API routes: no auth here; the
// console signs in by calling the API with the key the user types, like any other client.

// Nothing but our own files runs, loads or frames the console; Swagger UI sets inline styles.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Beacon console</title>
<link rel="stylesheet" href="/console/assets/app.css">
</head>
<body>
<div id="app"><p class="boot">Loading the Beacon console…</p></div>
<script src="/console/assets/app.js"></script>
</body>
</html>
`;

export function consoleRouter(root = repoRoot()): Router {
  const router = Router();
  const bundleOf = consoleBundler(path.join(root, 'console'));
  const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));

  const secure = (res: Response) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
  };

  // A browser that opens the service's root lands in the console; API clients keep their 404.
  router.get('/', (req, res, next) => {
    if (/\btext\/html\b/.test(req.header('accept') ?? '')) res.redirect(302, '/console/');
    else next();
  });
  router.get('/console', (req, res, next) => (req.path === '/console' ? res.redirect(301, '/console/') : next()));

  router.get('/console/assets/app.js', async (_req, res) => {
    secure(res);
    res.type('application/javascript; charset=utf-8').setHeader('Cache-Control', 'no-cache');
    res.send((await bundleOf()).js);
  });
  router.get('/console/assets/app.css', async (_req, res) => {
    secure(res);
    res.type('text/css; charset=utf-8').setHeader('Cache-Control', 'no-cache');
    res.send((await bundleOf()).css);
  });
  // Only the two files the API page loads, not the whole package folder.
  for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
    router.get(`/console/assets/swagger-ui/${file}`, (_req, res) => {
      secure(res);
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.sendFile(path.join(swaggerDir, file));
    });
  }
  const shell = (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/console/assets/')) return next();
    secure(res);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(SHELL);
  };
  router.get('/console/', shell);
  router.get('/console/{*rest}', shell);
  return router;
}
