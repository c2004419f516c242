import { ApiError, ErrorCode } from '../platform/errors';
import { entryPath, LANGUAGES, type Language, normaliseLanguage } from '../platform/language-catalogue';
import type { components } from '../generated/openapi-types';

type Schemas = components['schemas'];

// Algorithmia's "algorithm environments" (AEMS): one fixed CPU environment per supported language.
// The ids are constants so that clients can hard-code them (the Python client sends
// settings.algorithm_environment instead of settings.language).

export interface Environment {
  id: string;
  specificationId: string;
  language: Language;
  displayName: string;
  description: string;
}

const CREATED_AT = '2026-11-29T12:00:00.000Z';

const LANGUAGE_DISPLAY: Record<Language, string> = {
  python3: 'Python 3.x',
  javascript: 'JavaScript (Node.js)',
  r: 'R',
};

export const ENVIRONMENTS: readonly Environment[] = Object.freeze([
  {
    id: '0b1e7c5a-3f5e-4d2a-9c61-5e2f3b7a9d01',
    specificationId: '6a0f4c1e-8b2d-4e7f-a3c5-1d9e2b4f6a01',
    language: 'python3',
    displayName: 'Python 3',
    description: 'Python 3 with the standard library; entry point src/<name>.py defines apply(input)',
  },
  {
    id: '0b1e7c5a-3f5e-4d2a-9c61-5e2f3b7a9d02',
    specificationId: '6a0f4c1e-8b2d-4e7f-a3c5-1d9e2b4f6a02',
    language: 'javascript',
    displayName: 'Node.js',
    description: 'Node.js; entry point src/<name>.js sets exports.apply = function(input)',
  },
  {
    id: '0b1e7c5a-3f5e-4d2a-9c61-5e2f3b7a9d03',
    specificationId: '6a0f4c1e-8b2d-4e7f-a3c5-1d9e2b4f6a03',
    language: 'r',
    displayName: 'R',
    description: 'R (Rscript); entry point src/<name>.r defines apply <- function(input)',
  },
] satisfies Environment[]);

export const environmentFor = (language: Language): Environment => ENVIRONMENTS.find((e) => e.language === language)!;

const unknownLanguage = (message: string) => new ApiError(400, ErrorCode.UnknownAlgorithmLanguage, message);

/** Resolves a language name or alias; unknown names are 400 code 4001. */
export function languageNamed(name: string): Language {
  const lang = normaliseLanguage(name);
  if (!lang) throw unknownLanguage(`Unknown algorithm language '${name}'. Supported: ${LANGUAGES.join(', ')}.`);
  return lang;
}

/**
 * The language of create/update settings: `language` (python3, python3-1, javascript, r, ...) or
 * `algorithm_environment` (an environment id above). When both are given they must agree.
 */
export function languageFromSettings(s: { language?: string; algorithm_environment?: string }): Language | undefined {
  const byName = s.language === undefined ? undefined : languageNamed(s.language);
  let byEnv: Language | undefined;
  if (s.algorithm_environment !== undefined) {
    const env = ENVIRONMENTS.find((e) => e.id === s.algorithm_environment!.toLowerCase());
    if (!env) {
      throw unknownLanguage(`Unknown algorithm_environment '${s.algorithm_environment}'. See GET /v1/algorithm-environments/edge/languages/{language}/environments.`);
    }
    byEnv = env.language;
  }
  if (byName && byEnv && byName !== byEnv) {
    throw unknownLanguage(`settings.language '${s.language}' does not match settings.algorithm_environment (${byEnv}).`);
  }
  return byName ?? byEnv;
}

export function languageJson(lang: Language): Schemas['AlgorithmLanguage'] {
  const display = LANGUAGE_DISPLAY[lang];
  // Algorithmia sends configuration as a JSON document inside a string.
  const configuration = JSON.stringify({ display_name: display, entry_point: entryPath(lang, '<name>') }, null, 4);
  return { name: lang, display_name: display, configuration };
}

export function environmentJson(e: Environment): Schemas['AlgorithmEnvironment'] {
  return {
    id: e.id,
    environment_specification_id: e.specificationId,
    display_name: e.displayName,
    description: e.description,
    created_at: CREATED_AT,
    language: languageJson(e.language),
    machine_type: 'CPU',
  };
}
