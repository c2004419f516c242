// Shared by the execution, client-compat and Insights end-to-end tests: algorithms are created,
// compiled and published through the management HTTP API, as a user would.
import assert from 'node:assert/strict';
import type { TestApp } from './app';

export type TestLanguage = 'python3' | 'javascript' | 'r';

const ENTRY_EXT: Record<TestLanguage, string> = { python3: 'py', javascript: 'js', r: 'r' };

export interface PublishOptions {
  callability?: 'public' | 'private';
  insights?: boolean;
  versionType?: 'major' | 'minor' | 'revision';
}

export class AlgorithmAuthor {
  constructor(
    private readonly t: TestApp,
    readonly owner: string,
    readonly key: string,
  ) {}

  private auth() {
    return { Authorization: `Simple ${this.key}` };
  }

  /** Creates the algorithm; returns its id. */
  async create(name: string, language: TestLanguage): Promise<string> {
    const res = await this.t.request.post(`/v1/algorithms/${this.owner}`).set(this.auth()).send({ name, settings: { language } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  }

  /** Replaces the source with an entry file holding `code` (plus src/__init__.py for Python). */
  async setCode(name: string, language: TestLanguage, code: string): Promise<void> {
    const files: Record<string, string> = { [`src/${name}.${ENTRY_EXT[language]}`]: code };
    if (language === 'python3') files['src/__init__.py'] = '';
    const res = await this.t.request.put(`/v1/algorithms/${this.owner}/${name}/source`).set(this.auth()).send({ files });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  /** Compiles the current source; returns the build's git hash. */
  async compile(name: string): Promise<string> {
    const res = await this.t.request.post(`/v1/algorithms/${this.owner}/${name}/compile`).set(this.auth()).send({});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.compilation?.successful, true, JSON.stringify(res.body.compilation));
    const hash = res.body.version_info?.git_hash as string;
    assert.match(hash, /^[0-9a-f]{40}$/);
    return hash;
  }

  /** Publishes the latest successful build; returns its semantic version. */
  async publish(name: string, o: PublishOptions = {}): Promise<string> {
    const res = await this.t.request
      .post(`/v1/algorithms/${this.owner}/${name}/versions`)
      .set(this.auth())
      .send({
        settings: { insights_enabled: o.insights ?? false, algorithm_callability: o.callability ?? 'public' },
        version_info: { version_type: o.versionType ?? 'minor' },
      });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.version_info.semantic_version as string;
  }

  /** Create (if `create`), set code, compile and publish in one go. */
  async deploy(name: string, language: TestLanguage, code: string, o: PublishOptions & { create?: boolean } = {}) {
    const id = o.create === false ? undefined : await this.create(name, language);
    await this.setCode(name, language, code);
    const hash = await this.compile(name);
    const version = await this.publish(name, o);
    return { id, hash, version };
  }
}
