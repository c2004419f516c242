// The one place that knows the supported algorithm languages: names and aliases, the entry-point
// convention, the hello-world template, how a worker runner is started and how a build is checked.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export type Language = 'python3' | 'javascript' | 'r';
export const LANGUAGES: readonly Language[] = Object.freeze(['python3', 'javascript', 'r'] as const);

// Spellings seen in Algorithmia clients and docs (the Node TS client sends "python3-1").
const ALIASES: Record<string, Language> = {
  python3: 'python3',
  'python3-1': 'python3',
  python: 'python3',
  javascript: 'javascript',
  nodejs: 'javascript',
  r: 'r',
};

const EXTENSION: Record<Language, string> = { python3: 'py', javascript: 'js', r: 'r' };
const CHECKED_FILES: Record<Language, RegExp> = { python3: /\.py$/, javascript: /\.js$/, r: /\.[rR]$/ };

export function normaliseLanguage(s: unknown): Language | undefined {
  if (typeof s !== 'string') return undefined;
  const key = s.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(ALIASES, key) ? ALIASES[key] : undefined;
}

export function entryPath(lang: Language, algoName: string): string {
  return `src/${algoName}.${EXTENSION[lang]}`;
}

export function helloWorldSource(lang: Language, algoName: string): Record<string, string> {
  const entry = entryPath(lang, algoName);
  switch (lang) {
    case 'python3':
      // Algorithmia's own template (its Python client's tests expect "hello John"); any input works.
      return { 'src/__init__.py': '', [entry]: 'def apply(input):\n    return "hello {}".format(input)\n' };
    case 'javascript':
      return { [entry]: 'exports.apply = function(input) {\n  return "hello " + (typeof input === "string" ? input : JSON.stringify(input));\n};\n' };
    case 'r':
      return { [entry]: 'apply <- function(input) {\n  paste0("hello ", if (is.character(input)) input else jsonlite::toJSON(input, auto_unbox = TRUE))\n}\n' };
  }
}

/** runtimes/ holds the files shipped into workers; found from src/ (tsx) or dist/src/ (tsc). */
export function defaultRuntimesDir(): string {
  const candidates = [resolve(__dirname, '../../runtimes'), resolve(__dirname, '../../../runtimes')];
  return candidates.find((d) => existsSync(join(d, 'python', 'beacon_runner.py'))) ?? candidates[0];
}

export interface RunnerSpec {
  runtimesDir: string;
  entry: string; // relative to the worker's working directory
  pythonBin: string;
  rscriptBin: string;
  nodeBin: string;
  memoryLimitMb: number;
  maxResultBytes: number; // the runner refuses a larger serialised result (TooLargeError)
}
export interface RunnerCommand {
  command: string;
  args: string[];
  env: Record<string, string>; // runtime-specific additions to the worker's clean environment
}

// `ulimit -v` caps the address space of Python and R (and their children). V8 reserves far more
// address space than it uses, so Node gets a heap limit instead.
function withAddressLimit(memoryLimitMb: number, argv: string[]): Pick<RunnerCommand, 'command' | 'args'> {
  const kb = String(Math.max(1, Math.floor(memoryLimitMb)) * 1024);
  const script = 'ulimit -v "$1" || exit 97; shift; exec "$@"';
  return { command: '/bin/sh', args: ['-c', script, 'beacon-worker', kb, ...argv] };
}

export function runnerCommand(lang: Language, s: RunnerSpec): RunnerCommand {
  const limit = String(s.maxResultBytes);
  switch (lang) {
    case 'python3': {
      const runner = join(s.runtimesDir, 'python', 'beacon_runner.py');
      const env = { PYTHONPATH: join(s.runtimesDir, 'python'), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
      return { ...withAddressLimit(s.memoryLimitMb, [s.pythonBin, '-B', '-s', runner, s.entry, limit]), env };
    }
    case 'r': {
      const runner = join(s.runtimesDir, 'r', 'runner.R');
      const env = { BEACON_R_RUNTIME: join(s.runtimesDir, 'r') };
      return { ...withAddressLimit(s.memoryLimitMb, [s.rscriptBin, '--vanilla', runner, s.entry, limit]), env };
    }
    case 'javascript': {
      const runner = join(s.runtimesDir, 'javascript', 'runner.js');
      const heap = `--max-old-space-size=${Math.max(16, Math.floor(s.memoryLimitMb))}`;
      return { command: s.nodeBin, args: [heap, runner, s.entry, limit], env: { NODE_PATH: join(s.runtimesDir, 'javascript') } };
    }
  }
}

/** Writes an algorithm's files under dir, refusing paths that would escape it. */
export async function writeSourceTree(dir: string, files: Record<string, string>, mode = 0o600): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const parts = path.split('/');
    const bad = path.startsWith('/') || path.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..');
    if (bad || typeof text !== 'string') throw new Error(`invalid source file path: ${JSON.stringify(path)}`);
    const target = join(dir, ...parts);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, text, { mode });
  }
}

// ---- build check ------------------------------------------------------------------------------

export interface SyntaxCheckOptions {
  pythonBin: string;
  rscriptBin: string;
  nodeBin?: string;
  timeoutMs?: number;
  tmpDir?: string;
}

// Compiles (never runs) every file; for the entry file also looks for a top-level `apply`.
const PYTHON_CHECK = `
import ast, sys, traceback
entry, files, ok = sys.argv[1], sys.argv[2:], True
for f in files:
    try:
        compile(open(f, 'rb').read(), f, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        ok = False
        sys.stdout.write(''.join(traceback.format_exception_only(type(e), e)))
if ok:
    names = set()
    for node in ast.parse(open(entry, 'rb').read(), entry).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): names.add(node.name)
        elif isinstance(node, ast.Assign): names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)): names.update((a.asname or a.name) for a in node.names)
    if 'apply' not in names:
        ok = False
        print(entry + ' does not define apply(input)')
sys.exit(0 if ok else 1)
`;

const R_CHECK = `
args <- commandArgs(trailingOnly = TRUE); entry <- args[1]; files <- args[-1]; ok <- TRUE
for (f in files) {
  err <- tryCatch({ parse(file = f, keep.source = FALSE); NULL }, error = function(e) conditionMessage(e))
  if (!is.null(err)) { cat(err, "\\n", sep = ""); ok <- FALSE }
}
if (ok) {
  is_def <- function(e) is.call(e) && as.character(e[[1]])[1] %in% c("<-", "=", "<<-") && identical(e[[2]], as.name("apply"))
  if (!any(vapply(parse(file = entry, keep.source = FALSE), is_def, logical(1)))) {
    cat(entry, " does not define apply <- function(input)\\n", sep = ""); ok <- FALSE
  }
}
quit(status = if (ok) 0 else 1)
`;

interface Checked {
  code: number | null;
  output: string;
  timedOut: boolean;
}

function runChecker(command: string, args: string[], cwd: string, deadline: number): Promise<Checked> {
  return new Promise((done) => {
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      if (output.length < 64 * 1024) output += d.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ code: null, output: `could not start ${command}: ${e.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, timedOut });
    });
  });
}

async function checkFiles(lang: Language, entry: string, targets: string[], dir: string, o: SyntaxCheckOptions, deadline: number): Promise<Checked> {
  if (lang === 'python3') return runChecker(o.pythonBin, ['-B', '-I', '-c', PYTHON_CHECK, entry, ...targets], dir, deadline);
  if (lang === 'r') return runChecker(o.rscriptBin, ['--vanilla', '-e', R_CHECK, entry, ...targets], dir, deadline);
  // `node --check` takes one file at a time.
  let output = '';
  for (const f of targets) {
    const r = await runChecker(o.nodeBin ?? process.execPath, ['--check', f], dir, deadline);
    // Keep the location and message; node's own stack frames and version banner are noise here.
    const message = r.output.split('\n').filter((l) => !/^\s+at |^Node\.js v/.test(l)).join('\n').replace(/\n{3,}/g, '\n\n');
    if (r.code !== 0) return { ...r, output: output + message };
  }
  return { code: 0, output, timedOut: false };
}

export async function syntaxCheck(
  lang: Language,
  files: Record<string, string>,
  algoName: string,
  opts: SyntaxCheckOptions,
): Promise<{ ok: boolean; logs: string }> {
  const entry = entryPath(lang, algoName);
  const targets = Object.keys(files).filter((f) => CHECKED_FILES[lang].test(f)).sort();
  let logs = `Building algorithm (${lang})...\n`;
  const fail = (why: string) => ({ ok: false, logs: `${logs}${why.trimEnd()}\nBuild failed.\n` });
  if (!Object.prototype.hasOwnProperty.call(files, entry)) return fail(`Entry file ${entry} is missing.`);
  logs += `Checking ${targets.length} file(s): ${targets.join(', ')}\n`;

  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'beacon-check-'));
  try {
    await writeSourceTree(dir, files);
    if (lang === 'javascript' && !/\bapply\b/.test(files[entry])) return fail(`${entry} does not define exports.apply`);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const r = await checkFiles(lang, entry, targets, dir, opts, deadline);
    if (r.timedOut) return fail(`Syntax check timed out after ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s.`);
    // Error messages should name src/x.py, not the temporary directory.
    const output = r.output.split(`${dir}/`).join('');
    if (r.code !== 0) return fail(output || `checker exited with code ${r.code}`);
    return { ok: true, logs: `${logs}${output}Success!\n` };
  } catch (e) {
    return fail((e as Error).message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
