import Joi from 'joi';
import { NAME_PATTERN } from '../platform/ids';
import { treeProblems } from '../platform/source-tree';

// Request shapes of the management API, checked once by the validate middleware. Objects accept
// unknown keys: the official clients send extras (source, scmsCredentials, package_set, username)
// that Beacon has no use for, and rejecting them would break those clients.

export const algorithmName = Joi.string().pattern(NAME_PATTERN).max(64).messages({
  'string.pattern.base': '{#label} must start with a letter and contain only letters, digits and underscores',
});
const username = Joi.string().pattern(NAME_PATTERN).max(30);

export const ownerParams = Joi.object({ owner: username.required() });
export const userParams = Joi.object({ username: username.required() });
export const algorithmParams = Joi.object({ owner: username.required(), name: algorithmName.required() });

export const detailsSchema = Joi.object({
  label: Joi.string().max(200).allow(''),
  summary: Joi.string().max(100_000).allow(''),
  tagline: Joi.string().max(500).allow(''),
}).unknown(true);

const license = Joi.string().valid('apl', 'apache2', 'gpl3', 'mit');

/** Settings a publish may set (OAS SettingsPublish) and that create and update accept too. */
export const publishableSettings = {
  algorithm_callability: Joi.string().valid('public', 'private'),
  source_visibility: Joi.string().valid('open', 'closed'),
  license,
  // The Java client's comment: "documentation says 'license' but server only accepts 'licence'".
  licence: license,
  network_access: Joi.string().valid('isolated', 'full'),
  pipeline_enabled: Joi.boolean(),
  royalty_microcredits: Joi.number().integer().min(0).max(1_000_000_000),
  insights_enabled: Joi.boolean(),
};

const settingsSchema = Joi.object({
  ...publishableSettings,
  // Checked by the service, which answers unknown names with Algorithmia's code 4001.
  language: Joi.string().max(64),
  algorithm_environment: Joi.string().max(64),
  environment: Joi.string().valid('cpu').insensitive().messages({ 'any.only': "{#label} must be 'cpu' (Beacon has no GPU machines)" }),
}).unknown(true);

export const createBody = Joi.object({
  name: algorithmName.required(),
  details: detailsSchema.default({}),
  settings: settingsSchema.default({}),
}).unknown(true);

export const updateBody = Joi.object({
  details: detailsSchema,
  settings: settingsSchema,
}).unknown(true);

export const sourceBody = Joi.object({
  files: Joi.object()
    .pattern(Joi.string(), Joi.string().allow(''))
    .required()
    .custom((files) => {
      const problems = treeProblems(files);
      // Thrown, not helpers.message(): paths may contain braces, which joi would read as a template.
      if (problems.length) throw new Error(`it is not a valid source tree: ${problems.slice(0, 10).join('; ')}`);
      return files;
    }),
});

/** limit and marker are read by the paging helper, which answers with Algorithmia's 5003 / 5002. */
export const pageQuery = Joi.object({ limit: Joi.any(), marker: Joi.any() }).unknown(true);

export type CreateBody = {
  name: string;
  details: Partial<Record<'label' | 'summary' | 'tagline', string>>;
  settings: SettingsInput;
};
export type SettingsInput = Partial<{
  algorithm_callability: 'public' | 'private';
  source_visibility: 'open' | 'closed';
  license: 'apl' | 'apache2' | 'gpl3' | 'mit';
  licence: 'apl' | 'apache2' | 'gpl3' | 'mit';
  network_access: 'isolated' | 'full';
  pipeline_enabled: boolean;
  royalty_microcredits: number;
  insights_enabled: boolean;
  language: string;
  algorithm_environment: string;
  environment: string;
}>;
export type UpdateBody = { details?: CreateBody['details']; settings?: SettingsInput };
