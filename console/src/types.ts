// The API's bodies as the console reads them: the types generated from openapi.yaml (npm run gen:api),
// never written out by hand here. A type-only import: esbuild drops it from the bundle.
import type { components } from '../../src/generated/openapi-types';

type Schemas = components['schemas'];

export type Algorithm = Schemas['Algorithm'];
export type Build = Schemas['AlgorithmBuild'];
/** An algorithm object that always carries version_info, build, compilation and self_link. */
export type Version = Schemas['AlgorithmVersion'];
export type PagedAlgorithms = Schemas['PagedAlgorithms'];
export type PagedVersions = Schemas['PagedVersions'];
export type PagedBuilds = Schemas['PagedBuilds'];
export type SourceTree = Schemas['SourceTree'];
