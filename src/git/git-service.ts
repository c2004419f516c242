// Git over smart HTTP for algorithm source: Beacon authenticates (HTTP basic, the API key as the
// password) and authorises (a key with management rights, of the owner), then hands the request
// to `git http-backend`. A push's hooks call back here: pre-receive refuses a tree that is not a
// valid source; post-receive stores the tree as the source and compiles it, and git relays the
// build log to the pusher's terminal. A failed build rejects nothing: the push is stored.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AlgorithmService } from '../algorithms/algorithm-service';
import type { Algorithm } from '../algorithms/algorithm-store';
import type { BuildService } from '../algorithms/build-service';
import { type Authenticator, type Principal, requireLevel } from '../platform/auth';
import { ApiError, ErrorCode, unauthenticated } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { runHttpBackend } from './git-cgi';
import { DEFAULT_BRANCH, type GitRepos } from './git-repos';
import { entryProblems, textTree } from './pushed-tree';

export interface GitServiceOptions {
  reposDir: string;
  maxRequestBytes: number;
  timeoutMs: number;
  nodeBin: string;
  hookScript: string;
  /** This replica's own address: the hooks call back to the process that holds their push. */
  hookBaseUrl: () => string;
}

interface Push {
  principal: Principal;
  algorithm: Algorithm;
  dir: string;
}

export interface HookCall {
  phase: 'pre-receive' | 'post-receive';
  updates: string;
  env?: { GIT_OBJECT_DIRECTORY?: string; GIT_ALTERNATE_OBJECT_DIRECTORIES?: string };
}

const ZERO = /^0{40}$/;

/** The API key from `Authorization: Basic base64(user:key)`; the key may also be the user name. */
export function basicKey(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  return pass || user || undefined;
}

export class GitService {
  private readonly pushes = new Map<string, Push>();

  constructor(
    private readonly repos: GitRepos,
    private readonly authenticator: Pick<Authenticator, 'authenticate'>,
    private readonly algorithms: AlgorithmService,
    private readonly builds: Pick<BuildService, 'compile'>,
    private readonly o: GitServiceOptions,
    private readonly logger: Logger,
  ) {}

  async serve(req: Request, res: Response, owner: string, name: string, suffix: string): Promise<void> {
    const principal = await this.authenticate(req, res);
    requireLevel('manage', principal);
    const { algorithm, source } = await this.algorithms.getSource(principal, owner, name);
    // Every clone, fetch and push starts with info/refs: the JSON route's changes become a commit then.
    const dir = suffix === '/info/refs' ? await this.repos.ensure(algorithm.id, source.files) : this.repos.dir(algorithm.id);
    if (suffix !== '/info/refs' && (await this.repos.head(dir)) === undefined) await this.repos.ensure(algorithm.id, source.files);
    const token = randomBytes(24).toString('base64url');
    this.pushes.set(token, { principal, algorithm, dir });
    try {
      await runHttpBackend(req, res, {
        projectRoot: this.o.reposDir,
        pathInfo: `/${algorithm.id}.git${suffix}`,
        env: this.repos.env({
          BEACON_NODE: this.o.nodeBin,
          BEACON_GIT_HOOK: this.o.hookScript,
          BEACON_GIT_HOOK_URL: `${this.o.hookBaseUrl().replace(/\/+$/, '')}/internal/git-hooks/${token}`,
        }),
        remoteUser: principal.username,
        maxRequestBytes: this.o.maxRequestBytes,
        timeoutMs: this.o.timeoutMs,
      });
    } finally {
      this.pushes.delete(token);
    }
  }

  /** A hook of a push in progress; `ok: false` makes pre-receive refuse the push with `message`. */
  async hook(token: string, call: HookCall): Promise<{ ok: boolean; message: string }> {
    const push = this.pushes.get(token);
    if (!push) throw new ApiError(403, ErrorCode.NotAuthorized, 'Unknown or finished push.');
    const updates = call.updates
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length === 3);
    if (call.phase === 'pre-receive') return this.check(push, updates, this.quarantine(push, call.env));
    const main = updates.find(([, , ref]) => ref === DEFAULT_BRANCH);
    if (!main) return { ok: true, message: '' };
    return this.store(push, main[1]);
  }

  private async check(push: Push, updates: string[][], env: Record<string, string>): Promise<{ ok: boolean; message: string }> {
    const problems: string[] = [];
    for (const [, next, ref] of updates) {
      if (ref !== DEFAULT_BRANCH) problems.push(`only the default branch (master) holds an algorithm's source; ${ref} was refused`);
      else if (ZERO.test(next)) problems.push('the default branch cannot be deleted');
      else problems.push(...(await this.readTree(push, next, env)).problems);
    }
    if (problems.length === 0) return { ok: true, message: '' };
    return { ok: false, message: `Beacon refused this push:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` };
  }

  private async readTree(push: Push, commit: string, env: Record<string, string>) {
    const entries = await this.repos.listTree(push.dir, commit, env);
    const listed = entryProblems(entries);
    if (listed.length > 0) return { files: {}, problems: listed };
    return textTree(entries, await this.repos.readBlobs(push.dir, [...new Set(entries.map((e) => e.sha))], env));
  }

  private async store(push: Push, commit: string): Promise<{ ok: boolean; message: string }> {
    const { algorithm: a, principal } = push;
    const { files, problems } = await this.readTree(push, commit, {});
    if (problems.length > 0) return { ok: true, message: `Beacon could not read the pushed tree: ${problems.join('; ')}\n` };
    await this.algorithms.replaceSource(principal, a.ownerName, a.name, files);
    const built = await this.builds.compile(a, commit);
    const b = built.build;
    const summary =
      b.status === 'succeeded'
        ? `Build succeeded: ${a.ownerName}/${a.name} git_hash ${b.commitSha} (build ${b.id}).\n` +
          `Call it at /v1/algo/${a.ownerName}/${a.name}/${b.commitSha}; publish it with POST /v1/algorithms/${a.ownerName}/${a.name}/versions.\n`
        : `Build FAILED (build ${b.id}). The push was stored; fix the source and push again.\n`;
    this.logger.info({ algorithm: `${a.ownerName}/${a.name}`, buildId: b.id, status: b.status }, 'git push built');
    return { ok: true, message: `${b.logs}${summary}` };
  }

  /** Objects of a push in progress live in a quarantine inside the repository until it is accepted. */
  private quarantine(push: Push, env: HookCall['env']): Record<string, string> {
    const inside = (p: string) => p.startsWith(`${push.dir}/`) && !p.split('/').includes('..');
    const out: Record<string, string> = {};
    if (env?.GIT_OBJECT_DIRECTORY && inside(env.GIT_OBJECT_DIRECTORY)) out.GIT_OBJECT_DIRECTORY = env.GIT_OBJECT_DIRECTORY;
    const alt = env?.GIT_ALTERNATE_OBJECT_DIRECTORIES?.split(':').filter(inside);
    if (alt?.length) out.GIT_ALTERNATE_OBJECT_DIRECTORIES = alt.join(':');
    return out;
  }

  private async authenticate(req: Request, res: Response): Promise<Principal> {
    const challenge = () => res.setHeader('WWW-Authenticate', 'Basic realm="Beacon", charset="UTF-8"');
    const key = basicKey(req.header('authorization'));
    if (!key) {
      challenge();
      throw unauthenticated('Git needs the API key as the password (HTTP basic authentication).');
    }
    try {
      const principal = await this.authenticator.authenticate(`Simple ${key}`);
      if (!principal) throw unauthenticated();
      return principal;
    } catch (e) {
      challenge();
      throw e;
    }
  }
}
