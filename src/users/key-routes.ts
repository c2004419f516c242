import type { operations } from '../generated/openapi-types';
import { apiKeyPrefix, generateApiKey, hashApiKey, maskApiKey } from '../platform/auth';
import { badRequest, ErrorCode, isUniqueViolation, notFound } from '../platform/errors';
import { route, type RouteDef } from '../platform/routes';
import { keyJson, keySummaryJson } from './user-json';
import { accountOf, requireKeyManagement, type UserRoutesDeps, userNamed } from './user-access';

type CreateKeyRequest = NonNullable<operations['createApiKey']['requestBody']>['content']['application/json'];
/** As validated: openapi.yaml's defaults are filled in (label '', AlgorithmKey, every right on algo://*). */
type CreateKeyBody = Required<Pick<CreateKeyRequest, 'key_label' | 'key_type'>> &
  Omit<CreateKeyRequest, 'permissions'> & { permissions: Required<NonNullable<CreateKeyRequest['permissions']>> };

/** JSON Schema checks the date-time's form; "in the future" depends on the clock, so it is checked here. */
function expiry(expiresAt: string | undefined): Date | undefined {
  if (expiresAt === undefined) return undefined;
  const at = new Date(expiresAt);
  if (!(at.getTime() > Date.now())) {
    throw badRequest("The request is invalid: 'expires_at' must be in the future", ErrorCode.InputValidationError, [
      { field: 'body.expires_at', message: "'expires_at' must be in the future" },
    ]);
  }
  return at;
}

const keyNotFound = (id: string) => notFound(`API key '${id}' was not found for this user.`, ErrorCode.ApiKeyNotFound);

const secretOf = (apiKey: string) => ({ keyHash: hashApiKey(apiKey), keyMask: maskApiKey(apiKey), keyPrefix: apiKeyPrefix(apiKey) });

/** API keys: created or imported by an admin; listed, revoked and rotated by their user or an admin. */
export function keyRoutes({ store, forgetKeys }: UserRoutesDeps): RouteDef[] {
  return [
    route('post', '/v1/admin/users/{username}/keys', 'admin', async (req, res) => {
      const b = req.body as CreateKeyBody;
      const expiresAt = expiry(b.expires_at);
      const user = await userNamed(store, String(req.params.username));
      const apiKey: string = b.api_key ?? generateApiKey();
      try {
        const key = await store.createKey({
          userId: user.id,
          ...secretOf(apiKey),
          keyLabel: b.key_label,
          keyType: b.key_type,
          allowAlgo: b.key_type === 'AlgorithmKey' && b.permissions.allow_algo,
          allowAlgoManagement: b.key_type === 'AlgorithmKey' && b.permissions.allow_algo_management,
          algoAcl: b.key_type === 'AlgorithmKey' ? b.permissions.algo_acl : [],
          expiresAt,
        });
        // An imported key may have been looked up (and refused) moments ago: this replica forgets that at once.
        forgetKeys([hashApiKey(apiKey)]);
        // The only time the key itself is ever returned (and after a rotation).
        res.status(201).json(keyJson(key, user, apiKey));
      } catch (err) {
        if (isUniqueViolation(err)) throw badRequest('That API key cannot be imported.', ErrorCode.InvalidRequest);
        throw err;
      }
    }),

    route('get', '/v1/users/{username}/keys', 'account', async (req, res) => {
      const user = await accountOf(req, store);
      requireKeyManagement(req);
      res.json({ results: (await store.listKeys(user.id)).map((k) => keySummaryJson(k, user)) });
    }),

    // Revoke: the key is deleted; this replica forgets it at once, the others within AUTH_CACHE_TTL_MS.
    route('delete', '/v1/users/{username}/keys/{key_id}', 'account', async (req, res) => {
      const user = await accountOf(req, store);
      requireKeyManagement(req, String(req.params.key_id));
      const hash = await store.deleteKey(user.id, String(req.params.key_id));
      if (!hash) throw keyNotFound(String(req.params.key_id));
      forgetKeys([hash]);
      res.status(204).end();
    }),

    // Rotate: same id, label, permissions and expiry; a new secret. The old one stops working as revoke does.
    route('post', '/v1/users/{username}/keys/{key_id}/rotate', 'account', async (req, res) => {
      const user = await accountOf(req, store);
      requireKeyManagement(req, String(req.params.key_id));
      const apiKey = generateApiKey();
      const rotated = await store.rotateKey(user.id, String(req.params.key_id), secretOf(apiKey));
      if (!rotated) throw keyNotFound(String(req.params.key_id));
      forgetKeys([rotated.oldHash]);
      res.status(201).json(keyJson(rotated.key, user, apiKey));
    }, { body: 'none' }),
  ];
}
