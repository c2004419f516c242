import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { must } from '../client/beacon-client';
import { algorithmRef, type CliContext, CliError, Exit } from './cli-context';

const algo = (ref: string) => {
  const { owner, name } = algorithmRef(ref);
  return { params: { path: { owner, name } } };
};

/** Every file under dir (dot files and folders skipped), as the flat map PUT .../source takes. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files[p] = fs.readFileSync(path.join(dir, p), 'utf8');
    }
  };
  try {
    walk('');
  } catch (err) {
    throw new CliError(`cannot read ${dir}: ${(err as Error).message}`, Exit.usage);
  }
  return files;
}

/** `beacon algo ...` for authors (a standard key with allow_algo_management). */
export function algoCommands(program: Command, ctx: CliContext): void {
  const a = program.command('algo').description('algorithms: create, push source, compile, publish, call');
  a.command('create <owner/name>')
    .description('create a private algorithm with a Hello World source')
    .option('--language <language>', 'python3, javascript or r', 'python3')
    .action(async (ref: string, o: { language: string }, cmd: Command) => {
      const { owner, name } = algorithmRef(ref);
      const created = await must(
        ctx.client(cmd).POST('/v1/algorithms/{owner}', { params: { path: { owner } }, body: { name, settings: { language: o.language } } }),
      );
      ctx.print(cmd, created, `created ${owner}/${created.name} (${created.settings.language})`);
    });
  a.command('push <owner/name> <dir>')
    .description("replace the algorithm's source with the files under dir")
    .action(async (ref: string, dir: string, _o, cmd: Command) => {
      const files = readTree(dir);
      const tree = await must(ctx.client(cmd).PUT('/v1/algorithms/{owner}/{name}/source', { ...algo(ref), body: { files } }));
      ctx.print(cmd, tree, `pushed ${Object.keys(files).length} file(s); entry point ${tree.entry_point}`);
    });
  a.command('compile <owner/name>')
    .description('build the current source; exit 1 and print the log when the build fails')
    .action(async (ref: string, _o, cmd: Command) => {
      const built = await ctx.progress(cmd, `Compiling ${ref}`, () => must(ctx.client(cmd).POST('/v1/algorithms/{owner}/{name}/compile', algo(ref))));
      const ok = built.compilation?.successful ?? false;
      ctx.print(cmd, built, `${ok ? 'built' : 'build failed'} ${built.version_info?.git_hash ?? ''}\n${built.compilation?.output ?? ''}`.trimEnd());
      if (!ok) throw new CliError('', Exit.failed);
    });
  a.command('publish <owner/name>')
    .description('publish the newest successful build')
    .option('--type <type>', 'major, minor or revision', 'minor')
    .option('--public', 'callable by every user (default: private)')
    .option('--release-notes <text>')
    .action(async (ref: string, o: { type: 'major' | 'minor' | 'revision'; public?: boolean; releaseNotes?: string }, cmd: Command) => {
      const body = {
        settings: { algorithm_callability: o.public ? ('public' as const) : ('private' as const) },
        version_info: { version_type: o.type, ...(o.releaseNotes ? { release_notes: o.releaseNotes } : {}) },
      };
      const v = await must(ctx.client(cmd).POST('/v1/algorithms/{owner}/{name}/versions', { ...algo(ref), body }));
      ctx.print(cmd, v, `published ${ref} ${v.version_info?.semantic_version} (${v.version_info?.git_hash})`);
    });
  a.command('versions <owner/name>')
    .description('list versions, newest first')
    .action(async (ref: string, _o, cmd: Command) => {
      const page = await must(ctx.client(cmd).GET('/v1/algorithms/{owner}/{name}/versions', algo(ref)));
      const lines = page.results.map((v) => `${v.version_info?.semantic_version ?? '(unpublished)'}\t${v.version_info?.git_hash}\t${v.settings.algorithm_callability ?? ''}`);
      ctx.print(cmd, page.results, lines.join('\n') || '(no versions)');
    });
  a.command('call <owner/name[/version]> [input]')
    .description('call an algorithm; input is sent as JSON when it parses as JSON, else as text')
    .option('--text', 'send the input as text even if it parses as JSON')
    .option('--timeout <seconds>', 'seconds the call may take')
    .action(async (ref: string, input: string | undefined, o: { text?: boolean; timeout?: string }, cmd: Command) => {
      const { owner, name, version } = algorithmRef(ref);
      const raw = input ?? '';
      const asJson = !o.text && isJson(raw);
      // The input goes as it was typed: openapi-fetch would otherwise JSON-encode it again.
      const init = {
        params: { path: { owner, name, version }, query: o.timeout ? { timeout: Number(o.timeout) } : {} },
        body: raw,
        bodySerializer: (b: unknown) => String(b),
        headers: { 'Content-Type': asJson ? 'application/json' : 'text/plain' },
      };
      const client = ctx.client(cmd);
      const reply = await must(version === undefined ? client.POST('/v1/algo/{owner}/{name}', init as never) : client.POST('/v1/algo/{owner}/{name}/{version}', init as never));
      const r = reply as { result?: unknown; error?: { message: string; error_type: string } };
      if (r.error) {
        ctx.print(cmd, reply, `${r.error.error_type}: ${r.error.message}`);
        throw new CliError('', Exit.failed);
      }
      ctx.print(cmd, reply, typeof r.result === 'string' ? r.result : JSON.stringify(r.result, null, 2));
    });
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
