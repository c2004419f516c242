// Git smart HTTP (https://git-scm.com/docs/http-protocol) for each algorithm's source, and the
// callback of the push hooks. Authentication is inside the handlers: git sends HTTP basic only
// after a 401 challenge, which the API's own auth levels do not speak.
import Joi from 'joi';
import { route, type RouteDef } from '../platform/routes';
import type { GitService, HookCall } from './git-service';

const repoParams = Joi.object({
  owner: Joi.string().pattern(/^[a-zA-Z][a-zA-Z0-9_]*$/).max(64).required(),
  repo: Joi.string().pattern(/^[a-zA-Z][a-zA-Z0-9_]*\.git$/).max(70).required().messages({ 'string.pattern.base': 'the repository is <algorithm name>.git' }),
});
const serviceQuery = Joi.object({ service: Joi.string().valid('git-upload-pack', 'git-receive-pack') }).unknown(true);
const hookBody = Joi.object({
  phase: Joi.string().valid('pre-receive', 'post-receive').required(),
  updates: Joi.string().max(64 * 1024).allow('').required(),
  env: Joi.object({ GIT_OBJECT_DIRECTORY: Joi.string().max(4096).allow(''), GIT_ALTERNATE_OBJECT_DIRECTORIES: Joi.string().max(8192).allow('') }).unknown(true),
});

export function gitRoutes(git: GitService): RouteDef[] {
  const serve = (suffix: string) => async (req: import('express').Request, res: import('express').Response) => {
    const repo = String(req.params.repo);
    await git.serve(req, res, String(req.params.owner), repo.slice(0, -'.git'.length), suffix);
  };
  const opts = { body: 'none' as const, validate: { params: repoParams } };
  return [
    route('get', '/git/{owner}/{repo}/info/refs', 'public', serve('/info/refs'), { ...opts, validate: { params: repoParams, query: serviceQuery } }),
    route('post', '/git/{owner}/{repo}/git-upload-pack', 'public', serve('/git-upload-pack'), opts),
    route('post', '/git/{owner}/{repo}/git-receive-pack', 'public', serve('/git-receive-pack'), opts),
    route('post', '/internal/git-hooks/{token}', 'public', async (req, res) => {
      res.json(await git.hook(String(req.params.token), req.body as HookCall));
    }, { validate: { body: hookBody }, bodyLimit: '128kb' }),
  ];
}
