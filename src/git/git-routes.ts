// Git smart HTTP (https://git-scm.com/docs/http-protocol) for each algorithm's source, and the
// callback of the push hooks. Authentication is inside the handlers: git sends HTTP basic only
// after a 401 challenge, which the API's own auth levels do not speak. openapi.yaml checks the
// path (<owner>/<name>.git), the service query and the hook callback's body.
import { route, type RouteDef } from '../platform/routes';
import type { GitService, HookCall } from './git-service';

export function gitRoutes(git: GitService): RouteDef[] {
  const serve = (suffix: string) => async (req: import('express').Request, res: import('express').Response) => {
    const repo = String(req.params.repo);
    await git.serve(req, res, String(req.params.owner), repo.slice(0, -'.git'.length), suffix);
  };
  const opts = { body: 'none' as const };
  return [
    route('get', '/git/{owner}/{repo}/info/refs', 'public', serve('/info/refs'), opts),
    route('post', '/git/{owner}/{repo}/git-upload-pack', 'public', serve('/git-upload-pack'), opts),
    route('post', '/git/{owner}/{repo}/git-receive-pack', 'public', serve('/git-receive-pack'), opts),
    route('post', '/internal/git-hooks/{token}', 'public', async (req, res) => {
      res.json(await git.hook(String(req.params.token), req.body as HookCall));
    }, { bodyLimit: '128kb' }),
  ];
}
