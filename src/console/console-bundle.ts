import path from 'node:path';
import { build } from 'esbuild';

// The console's browser code (console/src, Preact + TypeScript) bundled by esbuild in this process,
// once, on the first request: no build step before `npm start`, no committed bundle to go stale.
// esbuild takes ~0.1-0.5 s for it; the bundle is kept in memory afterwards.

export interface ConsoleBundle {
  js: string;
  css: string;
}

export function consoleBundler(consoleDir: string): () => Promise<ConsoleBundle> {
  let pending: Promise<ConsoleBundle> | undefined;
  return () => {
    pending ??= bundle(consoleDir).catch((err: unknown) => {
      pending = undefined; // a later request tries again
      throw err;
    });
    return pending;
  };
}

async function bundle(consoleDir: string): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [path.join(consoleDir, 'src', 'main.tsx')],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: consoleDir,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js) throw new Error('esbuild produced no JavaScript for the console');
  return { js: js.text, css: css?.text ?? '' };
}
