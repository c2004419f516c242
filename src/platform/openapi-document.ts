import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { repoRoot } from './repo-root';

/** openapi.yaml as written (served as is) and parsed (served as JSON, and what requests are validated against). */
export interface OpenApiDocument {
  readonly file: string;
  readonly text: string;
  readonly doc: any;
}

export const DEFAULT_OPENAPI_FILE = (): string => path.join(repoRoot(), 'openapi.yaml');

const loaded = new Map<string, OpenApiDocument>();

/** The one loader of the contract: each file is read and parsed once per process. */
export function loadOpenApiDocument(file: string = DEFAULT_OPENAPI_FILE()): OpenApiDocument {
  let d = loaded.get(file);
  if (!d) {
    const text = fs.readFileSync(file, 'utf8');
    d = Object.freeze({ file, text, doc: YAML.parse(text) });
    loaded.set(file, d);
  }
  return d;
}
