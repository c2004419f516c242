import { BuildService } from './build-service';
import { BuildStore } from './build-store';
import { buildRoutes } from './build-routes';
import type { Config } from '../config';
import { syntaxCheck } from './build-check';
import { GitRepos } from '../git/git-repos';
import { gitRoutes } from '../git/git-routes';
import { GitService } from '../git/git-service';
import type { Authenticator } from '../platform/auth';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { RouteDef } from '../platform/routes';
import type { UserStore } from '../users/user-store';
import { algorithmIdRoutes } from './algorithm-id-routes';
import { algorithmRoutes } from './algorithm-routes';
import { type ErrorLogReader, errorRoutes } from './error-routes';
import { AlgorithmService } from './algorithm-service';
import { AlgorithmStore } from './algorithm-store';
import { MarkerCodec } from './paging';
import { versionRoutes } from './version-routes';
import { VersionService } from './version-service';
import { VersionStore } from './version-store';

export interface AlgorithmsDeps {
  db: Db;
  users: UserStore;
  baseUrl: () => string;
  /** This replica's own address (git hooks call back to the process that serves their push). */
  localUrl: () => string;
  /** runtimes/git/hook.js: the pre-receive/post-receive hook git runs for a push. */
  gitHookScript: string;
  logger: Logger;
  /** Interpreter paths for the build check, and the secret that signs paging markers. */
  config: Pick<Config, 'workers' | 'secretKey' | 'git'>;
  /** Git authenticates inside its handlers (HTTP basic after a challenge). */
  authenticator: Pick<Authenticator, 'authenticate'>;
  errors: ErrorLogReader;
}

/** The management API: algorithms and their source, builds (compile) and versions (publish). */
export function createAlgorithmsModule(deps: AlgorithmsDeps): { routes: RouteDef[]; recoverInterruptedBuilds(): Promise<number> } {
  const { db, baseUrl, logger, config, authenticator } = deps;
  const algorithmStore = new AlgorithmStore(db);
  const buildStore = new BuildStore(db);
  const repos = new GitRepos(config.git);
  const algorithms = new AlgorithmService(algorithmStore, (id) => repos.remove(id));
  const builds = new BuildService(
    buildStore,
    (lang, files, name) => syntaxCheck(lang, files, name, { pythonBin: config.workers.pythonBin, rscriptBin: config.workers.rscriptBin }),
    logger,
  );
  const versions = new VersionService(new VersionStore(db), buildStore);
  const markers = new MarkerCodec(config.secretKey);
  const git = new GitService(repos, authenticator, algorithms, builds, {
    ...config.git,
    nodeBin: process.execPath,
    hookScript: deps.gitHookScript,
    hookBaseUrl: deps.localUrl,
  }, logger);
  const management = [
    ...algorithmRoutes({ algorithms, builds, markers, baseUrl }),
    ...buildRoutes({ algorithms, builds, markers, baseUrl }),
    ...versionRoutes({ algorithms, versions, markers, baseUrl }),
    ...errorRoutes(algorithms, deps.errors),
  ];
  return {
    // The id forms first: they step aside for a first segment that is not a UUID.
    routes: [...algorithmIdRoutes(management, algorithms), ...management, ...gitRoutes(git)],
    recoverInterruptedBuilds: () => builds.recoverInterrupted(),
  };
}
