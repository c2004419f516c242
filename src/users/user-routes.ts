import type { operations } from '../generated/openapi-types';
import { conflict, ErrorCode, isUniqueViolation } from '../platform/errors';
import { route, type RouteDef } from '../platform/routes';
import { keyRoutes } from './key-routes';
import { accountOf, userNamed, userNotFound, type UserRoutesDeps } from './user-access';
import { userJson } from './user-json';
import type { UserStore } from './user-store';

type CreateUserBody = operations['createUser']['requestBody']['content']['application/json'];
/** As validated: limit defaults to 100 (openapi.yaml). */
type ListUsersQuery = Required<Pick<NonNullable<operations['listUsers']['parameters']['query']>, 'limit'>> & { marker?: string };

export function userRoutes(store: UserStore, baseUrl: () => string, forgetKeys: UserRoutesDeps['forgetKeys']): RouteDef[] {
  return [
    route('post', '/v1/users', 'admin', async (req, res) => {
      try {
        const user = await store.createUser(req.body as CreateUserBody);
        res.status(201).json(userJson(user, baseUrl()));
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`Username '${req.body.username}' has been taken.`, ErrorCode.UsernameHasBeenTaken);
        throw err;
      }
    }),

    route('get', '/v1/users', 'admin', async (req, res) => {
      const { limit, marker } = req.query as unknown as ListUsersQuery;
      const page = await store.listUsers(limit + 1, marker);
      const more = page.length > limit;
      const results = page.slice(0, limit);
      res.json({ results: results.map((u) => userJson(u, baseUrl())), marker: more ? results[results.length - 1].username : null });
    }),

    route('get', '/v1/users/{username}', 'account', async (req, res) => {
      res.json(userJson(await accountOf(req, store), baseUrl()));
    }),

    // Deleting a user deletes their keys and their algorithms with every build and version (the
    // database cascades); calls to those algorithms are 404 from then on (docs/decisions.md).
    route('delete', '/v1/users/{username}', 'admin', async (req, res) => {
      const user = await userNamed(store, String(req.params.username));
      if (user.id === req.principal!.userId) throw conflict('An admin key cannot delete its own user.', ErrorCode.InvalidRequest);
      const hashes = await store.deleteUser(user.id);
      if (!hashes) throw userNotFound(user.username);
      forgetKeys(hashes);
      res.status(204).end();
    }),

    ...keyRoutes({ store, baseUrl, forgetKeys }),
  ];
}
