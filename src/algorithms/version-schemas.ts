import Joi from 'joi';
import { GIT_HASH_PATTERN } from '../platform/ids';
import { algorithmParams, detailsSchema, publishableSettings, type CreateBody, type SettingsInput } from './algorithm-schemas';
import { VERSION_TYPE_SPELLINGS } from './semver';

const versionType = Joi.string().valid(...VERSION_TYPE_SPELLINGS).insensitive();

/**
 * Publish (reference section 3.6 and client-compat): `{}` works; the version type may be called
 * version_type or type; insights_enabled may sit in settings or in version_info.
 */
export const publishBody = Joi.object({
  details: detailsSchema,
  settings: Joi.object(publishableSettings).unknown(true),
  version_info: Joi.object({
    version_type: versionType,
    type: versionType,
    release_notes: Joi.string().max(10_000).allow(''),
    sample_input: Joi.string().max(100_000).allow('', null),
    insights_enabled: Joi.boolean(),
    // DC algorithm-management.md: given, it is used as is (it must exceed every published version).
    semantic_version: Joi.string().pattern(/^\d{1,9}\.\d{1,9}\.\d{1,9}$/).messages({ 'string.pattern.base': '{#label} must look like 1.2.3' }),
    git_hash: Joi.string().pattern(GIT_HASH_PATTERN).lowercase().messages({ 'string.pattern.base': '{#label} must be a 40-character hex commit hash' }),
  }).unknown(true),
}).unknown(true);

export type PublishBody = {
  details?: CreateBody['details'];
  settings?: SettingsInput;
  version_info?: Partial<{
    version_type: string;
    type: string;
    release_notes: string;
    sample_input: string | null;
    insights_enabled: boolean;
    semantic_version: string;
    git_hash: string;
  }>;
};

export const versionsQuery = Joi.object({
  limit: Joi.any(),
  marker: Joi.any(),
  // Joi compares 'true'/'false' case-insensitively, so Python's True/False pass too.
  published: Joi.boolean(),
  callable: Joi.boolean(),
}).unknown(true);

/** A version is named by its 40-hex commit hash or by its semantic version M.m.r. */
export const versionParams = algorithmParams.keys({ version: Joi.string().max(64).required() });

export const isGitHash = (s: string): boolean => GIT_HASH_PATTERN.test(s.toLowerCase());
