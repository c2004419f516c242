// Runs one git command with a clean, fixed environment and bounded output. Every git process Beacon
// starts goes through here (the CGI too), so none inherits the service's environment or secrets.
import { spawn } from 'node:child_process';

export interface GitResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** PATH and identity only; system and user git configuration are ignored. */
export function gitEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Beacon',
    GIT_AUTHOR_EMAIL: 'beacon@localhost',
    GIT_COMMITTER_NAME: 'Beacon',
    GIT_COMMITTER_EMAIL: 'beacon@localhost',
    ...extra,
  };
}

export function runGit(args: string[], o: { env: Record<string, string>; cwd?: string; input?: Buffer | string; maxBytes?: number; timeoutMs?: number }): Promise<GitResult> {
  const maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: o.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) child.kill('SIGKILL');
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16 * 1024) stderr += d.toString('utf8');
    });
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (size > maxBytes) return reject(new Error(`git ${args[0]} printed more than ${maxBytes} bytes`));
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

export async function git(args: string[], o: Parameters<typeof runGit>[1]): Promise<Buffer> {
  const r = await runGit(args, o);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
