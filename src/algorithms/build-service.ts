import { algorithmNotFound } from './algorithm-service';
import type { Algorithm } from './algorithm-store';
import type { SourceFiles } from '../platform/source-tree';
import type { Language } from '../platform/language-catalogue';
import { ApiError, ErrorCode, isUniqueViolation } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { BuildView } from './build-model';
import type { BuildStore } from './build-store';
import { commitSha } from './commit-sha';

/** build-check's syntaxCheck with the interpreter paths bound (a fake in unit tests). */
export type SyntaxChecker = (lang: Language, files: SourceFiles, algoName: string) => Promise<{ ok: boolean; logs: string }>;

export const buildNotFound = (id: string) => new ApiError(404, ErrorCode.AlgorithmBuildNotFound, `Build '${id}' was not found.`);

export class BuildService {
  constructor(
    private readonly builds: BuildStore,
    private readonly check: SyntaxChecker,
    private readonly logger: Logger,
  ) {}

  /**
   * Synchronous, as the clients expect (they call the returned git_hash right away): snapshot the
   * source as a new commit, check it, record the outcome. A failed check is a failed build, not an
   * HTTP error.
   */
  async compile(a: Algorithm, gitCommit?: string): Promise<BuildView> {
    const started = await this.start(a, gitCommit);
    if (!started) throw algorithmNotFound(a.ownerName, a.name); // deleted meanwhile
    const { view, files } = started;
    let outcome = { ok: false, logs: 'Build failed: internal error while checking the source.\n' };
    try {
      outcome = await this.check(a.language, files, a.name);
    } catch (err) {
      this.logger.error({ err, buildId: view.build.id }, 'syntax check crashed');
    } finally {
      // Never leave a build in-progress, whatever happened above.
      await this.builds.finish(view.build.id, outcome.ok ? 'succeeded' : 'failed', outcome.logs);
    }
    return (await this.builds.find(a.id, view.build.id))!;
  }

  /**
   * At start-up: builds left in progress by a Beacon that was killed mid-compile can never finish;
   * they become failed, with a log line saying so. Returns how many.
   */
  async recoverInterrupted(): Promise<number> {
    const n = await this.builds.failInterrupted('Build failed: Beacon stopped while this build was compiling (crash or kill); compile again.\n');
    if (n > 0) this.logger.warn({ builds: n }, 'builds left in progress by an earlier run were marked failed');
    return n;
  }

  /**
   * A push is built under its git commit id, so `version_info.git_hash` is what `git log` shows; a
   * commit built before (a push back to an old commit) gets a fresh id like an API compile.
   */
  private async start(a: Algorithm, gitCommit: string | undefined) {
    if (gitCommit) {
      try {
        return await this.builds.start(a.id, a.language, () => gitCommit);
      } catch (err) {
        if (!isUniqueViolation(err, 'builds_algorithm_commit_key')) throw err;
      }
    }
    return this.builds.start(a.id, a.language, commitSha);
  }

  latest(a: Algorithm): Promise<BuildView | undefined> {
    return this.builds.latest(a.id);
  }

  list(a: Algorithm, limit: number, beforeSeq?: string): Promise<BuildView[]> {
    return this.builds.list(a.id, limit, beforeSeq);
  }

  async get(a: Algorithm, buildId: string): Promise<BuildView> {
    const view = await this.builds.find(a.id, buildId);
    if (!view) throw buildNotFound(buildId);
    return view;
  }

  /** Logs exist once the build ended (SLATE: 404 until then). */
  async logs(a: Algorithm, buildId: string): Promise<string> {
    const view = await this.get(a, buildId);
    if (view.build.status === 'in-progress') {
      throw new ApiError(404, ErrorCode.AlgorithmBuildLogsNotFound, `Build '${buildId}' is still in progress; its logs are not available yet.`);
    }
    return view.build.logs;
  }
}
