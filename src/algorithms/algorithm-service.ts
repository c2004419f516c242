import { helloWorldSource } from '../platform/language-catalogue';
import type { Principal } from '../platform/auth';
import { ApiError, conflict, ErrorCode, forbidden, isUniqueViolation } from '../platform/errors';
import type { CreateBody, SettingsInput, UpdateBody } from './algorithm-schemas';
import type { Algorithm, AlgorithmSettings, AlgorithmStore, Details } from './algorithm-store';
import { languageFromSettings } from './environments';
import type { SourceFiles } from '../platform/source-tree';

// Who may do what: an algorithm is managed, and read through this API, by its owner only. The route
// level already demands a standard key with allow_algo_management; here the owner in the path must be
// the caller. A non-owner gets 403 whether or not the algorithm exists, so names don't leak.

export const algorithmNotFound = (owner: string, name: string) =>
  new ApiError(404, ErrorCode.AlgorithmNotFound, `No such algorithm: ${owner}/${name}.`);

const DEFAULT_SETTINGS: AlgorithmSettings = Object.freeze({
  algorithm_callability: 'private', // "Is initially set to private, even if an algorithm has no versions" (SLATE)
  source_visibility: 'closed',
  license: 'apl',
  network_access: 'full',
  pipeline_enabled: true,
  environment: 'cpu',
  royalty_microcredits: 0,
  insights_enabled: false, // per version, chosen at publish time
});

/** Applies the recognised settings of a request; `licence` is the alias the Java client needed. */
export function mergeSettings(current: AlgorithmSettings, input: SettingsInput | undefined): AlgorithmSettings {
  const s = input ?? {};
  return {
    algorithm_callability: s.algorithm_callability ?? current.algorithm_callability,
    source_visibility: s.source_visibility ?? current.source_visibility,
    license: s.license ?? s.licence ?? current.license,
    network_access: s.network_access ?? current.network_access,
    pipeline_enabled: s.pipeline_enabled ?? current.pipeline_enabled,
    environment: 'cpu',
    royalty_microcredits: s.royalty_microcredits ?? current.royalty_microcredits,
    // Per version, chosen at publish time; the algorithm shows what was published last.
    insights_enabled: current.insights_enabled,
  };
}

export function mergeDetails(current: Details, input: Partial<Details> | undefined): Details {
  const d = input ?? {};
  return { label: d.label ?? current.label, summary: d.summary ?? current.summary, tagline: d.tagline ?? current.tagline };
}

export class AlgorithmService {
  constructor(
    private readonly store: AlgorithmStore,
    /** Runs after a delete (the git repository goes with the algorithm); its failure leaves only disk behind. */
    private readonly onDeleted: (algorithmId: string) => Promise<void> = async () => {},
  ) {}

  requireOwner(caller: Principal, owner: string): void {
    if (caller.username.toLowerCase() !== owner.toLowerCase()) {
      throw forbidden(`Only ${owner} may manage ${owner}'s algorithms.`);
    }
  }

  async find(caller: Principal, owner: string, name: string): Promise<Algorithm | undefined> {
    this.requireOwner(caller, owner);
    return this.store.find(caller.userId, name);
  }

  /**
   * What GET /v1/algorithms/:owner/:name shows: the owner's own algorithm, or another user's public
   * one. Anything else is undefined rather than 403, so that the Python client's exists() answers
   * False for an algorithm it cannot see (it raises on 403).
   */
  async findVisible(caller: Principal, owner: string, name: string): Promise<Algorithm | undefined> {
    if (caller.username.toLowerCase() === owner.toLowerCase()) return this.store.find(caller.userId, name);
    const a = await this.store.findByOwnerName(owner, name);
    return a?.settings.algorithm_callability === 'public' ? a : undefined;
  }

  /** The algorithm an id names, whoever owns it: the routes it is handed to check the caller. */
  async getById(id: string): Promise<Algorithm> {
    const a = await this.store.findById(id);
    if (!a) throw new ApiError(404, ErrorCode.AlgorithmNotFound, `No such algorithm: ${id}.`);
    return a;
  }

  async get(caller: Principal, owner: string, name: string): Promise<Algorithm> {
    const a = await this.find(caller, owner, name);
    if (!a) throw algorithmNotFound(owner, name);
    return a;
  }

  /** Private, with the Hello World source of its language, so create → compile → publish → call works. */
  async create(caller: Principal, owner: string, body: CreateBody): Promise<Algorithm> {
    this.requireOwner(caller, owner);
    const language = languageFromSettings(body.settings);
    if (!language) {
      throw new ApiError(400, ErrorCode.UnknownAlgorithmLanguage, 'settings.language or settings.algorithm_environment is required.');
    }
    const settings = { ...mergeSettings(DEFAULT_SETTINGS, body.settings), algorithm_callability: 'private' as const, insights_enabled: false };
    const details = mergeDetails({ label: body.name, summary: '', tagline: '' }, body.details);
    try {
      return await this.store.create({ ownerId: caller.userId, name: body.name, language, details, settings }, helloWorldSource(language, body.name));
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`An algorithm named '${body.name}' already exists.`, ErrorCode.AlgorithmNameHasBeenTaken);
      throw err;
    }
  }

  async list(caller: Principal, username: string, limit: number, afterName?: string): Promise<Algorithm[]> {
    this.requireOwner(caller, username);
    return this.store.listByOwner(caller.userId, limit, afterName);
  }

  /** Merges the given details and settings; the language is fixed at creation (the source depends on it). */
  async update(caller: Principal, owner: string, name: string, body: UpdateBody): Promise<Algorithm> {
    const a = await this.get(caller, owner, name);
    const language = body.settings ? languageFromSettings(body.settings) : undefined;
    if (language && language !== a.language) {
      throw new ApiError(400, ErrorCode.InputValidationError, `The language of an algorithm cannot change (it is ${a.language}); create a new algorithm instead.`);
    }
    const updated = await this.store.update(a.id, { details: mergeDetails(a.details, body.details), settings: mergeSettings(a.settings, body.settings) });
    if (!updated) throw algorithmNotFound(owner, name);
    return updated;
  }

  async delete(caller: Principal, owner: string, name: string): Promise<void> {
    const a = await this.get(caller, owner, name);
    if (!(await this.store.delete(a.id))) throw algorithmNotFound(owner, name);
    await this.onDeleted(a.id).catch(() => undefined);
  }

  async getSource(caller: Principal, owner: string, name: string) {
    const a = await this.get(caller, owner, name);
    return { algorithm: a, source: (await this.store.getSource(a.id)) ?? { files: {}, updatedAt: a.createdAt } };
  }

  async replaceSource(caller: Principal, owner: string, name: string, files: SourceFiles) {
    const a = await this.get(caller, owner, name);
    const source = await this.store.replaceSource(a.id, files);
    if (!source) throw algorithmNotFound(owner, name); // deleted meanwhile
    return { algorithm: a, source };
  }
}
