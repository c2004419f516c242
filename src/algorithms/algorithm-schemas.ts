import Joi from 'joi';
import type { components } from '../generated/openapi-types';
import { treeProblems } from '../platform/source-tree';

// Request bodies of the management API. openapi.yaml describes them and the route layer checks them
// against it (src/platform/spec-validate.ts); the types below are generated from it. Objects accept
// unknown keys: the official clients send extras (source, scmsCredentials, package_set, username)
// that Beacon has no use for, and rejecting them would break those clients.

type Schemas = components['schemas'];

export type SettingsInput = Schemas['AlgorithmSettingsInput'];
export type DetailsInput = Schemas['AlgorithmDetailsInput'];
/** As validated: details and settings default to {} (openapi.yaml says so). */
export type CreateBody = Schemas['CreateAlgorithmRequest'] & { details: DetailsInput; settings: SettingsInput };
export type UpdateBody = Schemas['UpdateAlgorithmRequest'];
export type PublishBody = Schemas['PublishRequest'];

/**
 * What the spec cannot say about PUT .../source: the tree's paths (no traversal, no file that is also
 * a directory, ...) and its byte bounds. The shape (an object of strings, 1 to 200 files) the spec checks first.
 */
export const sourceBody = Joi.object({
  files: Joi.object()
    .required()
    .custom((files) => {
      const problems = treeProblems(files);
      // Thrown, not helpers.message(): paths may contain braces, which joi would read as a template.
      if (problems.length) throw new Error(`it is not a valid source tree: ${problems.slice(0, 10).join('; ')}`);
      return files;
    }),
});
