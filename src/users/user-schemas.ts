import Joi from 'joi';
import { NAME_PATTERN } from '../platform/ids';

// What the spec cannot say is little here; these mirror openapi.yaml's request bodies and parameters.

export const username = Joi.string().pattern(NAME_PATTERN).max(30).messages({
  'string.pattern.base': '{#label} must start with a letter and contain only letters, digits and underscores',
});

export const usernameParams = Joi.object({ username: username.required() });
export const keyParams = Joi.object({ username: username.required(), key_id: Joi.string().guid().required() });

export const listUsersQuery = Joi.object({
  limit: Joi.number().integer().min(1).max(1000).default(100),
  marker: username,
});

export const createUserBody = Joi.object({
  username: username.required(),
  email: Joi.string().email().max(254),
  fullname: Joi.string().max(200).allow(''),
}).unknown(true);

export const createKeyBody = Joi.object({
  key_label: Joi.string().max(200).allow('').default(''),
  key_type: Joi.string().valid('AlgorithmKey', 'PlatformAdminKey').default('AlgorithmKey'),
  api_key: Joi.string().pattern(/^sim[A-Za-z0-9]{20,}$/).messages({
    'string.pattern.base': "'api_key' must be 'sim' followed by at least 20 letters or digits",
  }),
  expires_at: Joi.date().iso().greater('now').messages({ 'date.greater': "'expires_at' must be in the future" }),
  permissions: Joi.object({
    allow_algo: Joi.boolean().default(true),
    allow_algo_management: Joi.boolean().default(true),
    algo_acl: Joi.array().items(Joi.string().pattern(/^algo:\/\/(\*|[a-zA-Z][a-zA-Z0-9_]*\/(\*|[a-zA-Z][a-zA-Z0-9_]*\/\*))$/)).max(100).default(['algo://*']),
  })
    .unknown(true)
    .default(),
}).unknown(true);
