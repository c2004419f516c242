import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { RouteDef } from '../platform/routes';
import type { UserStore } from '../users/user-store';

export interface AlgorithmsDeps {
  db: Db;
  users: UserStore;
  baseUrl: () => string;
  logger: Logger;
}

// PLACEHOLDER: the management API (algorithms, source, builds, versions) is being built.
export function createAlgorithmsModule(_deps: AlgorithmsDeps): { routes: RouteDef[] } {
  return { routes: [] };
}
