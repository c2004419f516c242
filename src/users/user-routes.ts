import Joi from 'joi';
import { generateApiKey, hashApiKey, maskApiKey } from '../platform/auth';
import { badRequest, conflict, ErrorCode, isUniqueViolation, notFound } from '../platform/errors';
import { NAME_PATTERN } from '../platform/ids';
import { route, type RouteDef } from '../platform/routes';
import type { ApiKeyRecord, User, UserStore } from './user-store';

const username = Joi.string().pattern(NAME_PATTERN).max(30).messages({
  'string.pattern.base': '{#label} must start with a letter and contain only letters, digits and underscores',
});

const createUserBody = Joi.object({
  username: username.required(),
  email: Joi.string().email().max(254),
  fullname: Joi.string().max(200).allow(''),
}).unknown(true);

const createKeyBody = Joi.object({
  key_label: Joi.string().max(200).allow('').default(''),
  key_type: Joi.string().valid('AlgorithmKey', 'PlatformAdminKey').default('AlgorithmKey'),
  api_key: Joi.string().pattern(/^sim[A-Za-z0-9]{20,}$/).messages({
    'string.pattern.base': "'api_key' must be 'sim' followed by at least 20 letters or digits",
  }),
  permissions: Joi.object({
    allow_algo: Joi.boolean().default(true),
    allow_algo_management: Joi.boolean().default(true),
    algo_acl: Joi.array().items(Joi.string().pattern(/^algo:\/\/(\*|[a-zA-Z][a-zA-Z0-9_]*\/(\*|[a-zA-Z][a-zA-Z0-9_]*\/\*))$/)).max(100).default(['algo://*']),
  })
    .unknown(true)
    .default(),
}).unknown(true);

export function userRoutes(store: UserStore, baseUrl: () => string): RouteDef[] {
  return [
    route('post', '/v1/users', 'admin', async (req, res) => {
      try {
        const user = await store.createUser(req.body);
        res.status(201).json(userJson(user, baseUrl()));
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`Username '${req.body.username}' has been taken.`, ErrorCode.UsernameHasBeenTaken);
        throw err;
      }
    }, { validate: { body: createUserBody } }),

    route('post', '/v1/admin/users/{username}/keys', 'admin', async (req, res) => {
      const user = await store.findUser(String(req.params.username));
      if (!user) throw notFound(`User '${req.params.username}' was not found.`, ErrorCode.UserNotFound);
      const b = req.body;
      const apiKey: string = b.api_key ?? generateApiKey();
      const keyHash = hashApiKey(apiKey);
      try {
        const key = await store.createKey({
          userId: user.id,
          keyHash,
          keyMask: maskApiKey(apiKey),
          keyLabel: b.key_label,
          keyType: b.key_type,
          allowAlgo: b.key_type === 'AlgorithmKey' && b.permissions.allow_algo,
          allowAlgoManagement: b.key_type === 'AlgorithmKey' && b.permissions.allow_algo_management,
          algoAcl: b.key_type === 'AlgorithmKey' ? b.permissions.algo_acl : [],
        });
        // The only time the key itself is ever returned.
        res.status(201).json(keyJson(key, user, apiKey));
      } catch (err) {
        if (isUniqueViolation(err)) throw badRequest('That API key cannot be imported.', ErrorCode.InvalidRequest);
        throw err;
      }
    }, { validate: { params: Joi.object({ username: username.required() }), body: createKeyBody } }),
  ];
}

export function userJson(u: User, base: string) {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    fullname: u.fullname,
    created_at: u.createdAt.toISOString(),
    resource_type: 'user',
    self_link: `${base}/v1/users/${u.username}`,
  };
}

function keyJson(k: ApiKeyRecord, u: User, apiKey: string) {
  return {
    id: k.id,
    username: u.username,
    owner_name: u.username,
    key_label: k.keyLabel,
    created_at: k.createdAt.toISOString(),
    api_key_mask: k.keyMask,
    api_key: apiKey,
    key_type: k.keyType,
    permissions: {
      allow_algo: k.allowAlgo,
      allow_algo_management: k.allowAlgoManagement,
      algo_acl: k.algoAcl,
    },
  };
}
