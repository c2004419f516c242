import { type BuildView } from './build-model';
import type { BuildStore } from './build-store';
import { ApiError, ErrorCode, isUniqueViolation } from '../platform/errors';
import { algorithmNotFound, mergeDetails, mergeSettings } from './algorithm-service';
import type { Algorithm } from './algorithm-store';
import { bump, compareSemver, formatSemver, normaliseVersionType, parseSemver, type SemVer } from './semver';
import { isGitHash } from '../platform/ids';
import type { PublishBody } from './algorithm-schemas';
import type { PublishPlan, PublishState, VersionFilter, VersionStore } from './version-store';

export const versionNotFound = (version: string) =>
  new ApiError(404, ErrorCode.VersionDoesNotExist, `Version '${version}' does not exist.`);

const alreadyPublished = () =>
  new ApiError(400, ErrorCode.VersionAlreadyPublished, 'Version already published. Please compile your algorithm.');

/**
 * The publish rules, as a pure function of the locked state: only the newest successful build may
 * be published, once; its semantic version bumps the highest one so far; its settings and details are
 * the algorithm's merged with the request's, frozen on the version.
 */
export function planPublish(state: PublishState, body: PublishBody): PublishPlan {
  const info = body.version_info ?? {};
  if (!state.latest) {
    throw new ApiError(400, ErrorCode.AlgorithmBuildNotFound, 'There is no successful build to publish. Compile the algorithm first (POST .../compile).');
  }
  if (state.latest.version) throw alreadyPublished();
  // Hashes are stored lower-case; callers may type them in any case (openapi.yaml allows A-F).
  if (info.git_hash !== undefined && info.git_hash.toLowerCase() !== state.latest.build.commitSha) {
    throw new ApiError(400, ErrorCode.InvalidRequest, `Only the newest successful build (${state.latest.build.commitSha}) can be published.`);
  }
  // openapi.yaml's check already refused unknown spellings, so this is never undefined here.
  const type = normaliseVersionType(info.version_type ?? info.type) ?? 'minor';
  const insightsEnabled = body.settings?.insights_enabled ?? info.insights_enabled ?? false;
  const settings = { ...mergeSettings(state.settings, body.settings), insights_enabled: insightsEnabled };
  return {
    semver: info.semantic_version !== undefined ? requestedSemver(info.semantic_version, state.highest) : bump(state.highest, type),
    callability: settings.algorithm_callability,
    insightsEnabled,
    details: mergeDetails(state.details, body.details),
    settings,
    releaseNotes: info.release_notes ?? '',
    sampleInput: info.sample_input ?? null,
  };
}

function requestedSemver(requested: string, highest: SemVer | undefined): SemVer {
  const v = parseSemver(requested);
  if (!v) throw new ApiError(400, ErrorCode.InputValidationError, `version_info.semantic_version '${requested}' is not M.m.r.`);
  if (highest && compareSemver(v, highest) <= 0) {
    throw new ApiError(400, ErrorCode.InputValidationError, `version_info.semantic_version ${requested} must be higher than ${formatSemver(highest)}, the highest published version.`);
  }
  return v;
}

export class VersionService {
  constructor(
    private readonly versions: VersionStore,
    private readonly builds: BuildStore,
  ) {}

  async publish(a: Algorithm, body: PublishBody): Promise<BuildView> {
    let view: BuildView | undefined;
    try {
      view = await this.versions.publish(a.id, (state) => planPublish(state, body));
    } catch (err) {
      // Only reachable if the row lock were bypassed; the unique indexes still keep versions distinct.
      if (isUniqueViolation(err, 'versions_build_id_key')) throw alreadyPublished();
      if (isUniqueViolation(err)) throw new ApiError(409, ErrorCode.InvalidRequest, 'Another publish of this algorithm got there first; try again.');
      throw err;
    }
    if (!view) throw algorithmNotFound(a.ownerName, a.name);
    return view;
  }

  list(a: Algorithm, filter: Omit<VersionFilter, 'algorithmCallability'>, limit: number, beforeSeq?: string): Promise<BuildView[]> {
    return this.versions.list(a.id, { ...filter, algorithmCallability: a.settings.algorithm_callability }, limit, beforeSeq);
  }

  /** By 40-hex commit hash (any build, published or not) or by semantic version M.m.r. */
  async get(a: Algorithm, version: string): Promise<BuildView> {
    const semver = parseSemver(version);
    const view = isGitHash(version)
      ? await this.builds.findByCommit(a.id, version)
      : semver
        ? await this.versions.findBySemver(a.id, semver)
        : undefined;
    if (!view) throw versionNotFound(version);
    return view;
  }
}
