import type { Build, BuildView } from './build-model';
import type { Language } from '../platform/language-catalogue';
import type { Algorithm, AlgorithmSettings } from './algorithm-store';
import { environmentFor } from './environments';
import { formatSemver } from './semver';
import type { components } from '../generated/openapi-types';

// Reply bodies typed by the spec (src/generated): a field the spec lacks does not compile.
type Schemas = components['schemas'];

// The reply shapes of reference/algorithmia-api.md section 2: one algorithm object, of which a
// version object is the variant that always carries build, compilation, version_info and self_link.

// Beacon hosts the source itself: the "internal" SCM of every Algorithmia example.
const INTERNAL_SOURCE = Object.freeze({ scm: { id: 'internal', provider: 'internal', default: true, enabled: true } } as const);

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const algorithmPath = (a: Algorithm): string => `/v1/algorithms/${a.ownerName}/${a.name}`;

export function settingsJson(language: Language, s: AlgorithmSettings) {
  return {
    algorithm_callability: s.algorithm_callability,
    source_visibility: s.source_visibility,
    license: s.license,
    network_access: s.network_access,
    pipeline_enabled: s.pipeline_enabled,
    language,
    environment: s.environment,
    algorithm_environment: environmentFor(language).id,
    royalty_microcredits: s.royalty_microcredits,
    insights_enabled: s.insights_enabled,
  };
}

export function buildJson(view: BuildView): Schemas['AlgorithmBuild'] {
  const b: Build = view.build;
  return {
    build_id: b.id,
    status: b.status,
    commit_sha: b.commitSha,
    started_at: b.startedAt.toISOString(),
    finished_at: iso(b.finishedAt),
    resource_type: 'algorithm_build',
    // "Absent unless the build has been published" (SLATE).
    ...(view.version ? { version_info: { semantic_version: formatSemver(view.version.semver) } } : {}),
  };
}

function versionInfoJson(view: BuildView): Schemas['AlgorithmVersionInfo'] {
  const v = view.version;
  if (!v) return { git_hash: view.build.commitSha, insights_enabled: false };
  return {
    semantic_version: formatSemver(v.semver),
    git_hash: view.build.commitSha,
    version_uuid: v.id,
    release_notes: v.releaseNotes,
    sample_input: v.sampleInput,
    insights_enabled: v.insightsEnabled,
    published_at: v.publishedAt.toISOString(), // Beacon extension: the console's Versions tab shows it
  };
}

/** The fields a build adds to an algorithm object. */
function buildFields(a: Algorithm, view: BuildView, base: string) {
  const done = view.build.status !== 'in-progress';
  return {
    version_info: versionInfoJson(view),
    build: buildJson(view),
    compilation: { successful: view.build.status === 'succeeded', ...(done ? { output: view.build.logs } : {}) },
    self_link: `${base}${algorithmPath(a)}/versions/${view.build.commitSha}`,
  };
}

/** The algorithm as it is now; with its newest build (if any) as Algorithmia's GET shows it. */
export function algorithmJson(a: Algorithm, base: string, latest?: BuildView): Schemas['Algorithm'] {
  return {
    id: a.id,
    name: a.name,
    details: a.details,
    settings: settingsJson(a.language, a.settings),
    source: INTERNAL_SOURCE,
    resource_type: 'algorithm',
    self_link: `${base}${algorithmPath(a)}`,
    ...(latest ? buildFields(a, latest, base) : {}),
  };
}

/**
 * A version object: a published version shows its own snapshot of settings and details; an
 * unpublished build shows the algorithm's current ones (it has no snapshot of its own).
 */
export function versionJson(a: Algorithm, view: BuildView, base: string): Schemas['AlgorithmVersion'] {
  const v = view.version;
  const settings = v
    ? { ...settingsJson(a.language, v.settings), algorithm_callability: v.callability, insights_enabled: v.insightsEnabled }
    : { ...settingsJson(a.language, a.settings), insights_enabled: false };
  return {
    id: a.id,
    name: a.name,
    details: v ? v.details : a.details,
    settings,
    source: INTERNAL_SOURCE,
    resource_type: 'algorithm',
    ...buildFields(a, view, base),
  };
}
