import type { Command } from 'commander';
import { must } from '../client/beacon-client';
import { type CliContext, CliError, Exit } from './cli-context';

const user = (username: string) => ({ params: { path: { username } } });
const key = (username: string, key_id: string) => ({ params: { path: { username, key_id } } });

/** `beacon users ...` and `beacon keys ...`: the identity routes, through the typed client. */
export function accountCommands(program: Command, ctx: CliContext): void {
  const users = program.command('users').description('users (admin key)');
  users
    .command('create <username>')
    .description('create a user')
    .option('--email <email>')
    .option('--fullname <name>')
    .action(async (username: string, o: { email?: string; fullname?: string }, cmd: Command) => {
      const created = await must(ctx.client(cmd).POST('/v1/users', { body: { username, ...o } }));
      ctx.print(cmd, created, `created user ${created.username} (${created.id})`);
    });
  users
    .command('list')
    .description('list every user')
    .action(async (_o, cmd: Command) => {
      const all = [];
      let marker: string | undefined;
      do {
        const page = await must(ctx.client(cmd).GET('/v1/users', { params: { query: { limit: 1000, ...(marker ? { marker } : {}) } } }));
        all.push(...page.results);
        marker = page.marker ?? undefined;
      } while (marker);
      ctx.print(cmd, all, all.map((u) => `${u.username}\t${u.email ?? ''}\t${u.created_at}`).join('\n') || '(no users)');
    });
  users
    .command('delete <username>')
    .description('delete a user with their keys and algorithms')
    .option('--yes', 'confirm: their algorithms, builds and versions are deleted too')
    .action(async (username: string, o: { yes?: boolean }, cmd: Command) => {
      if (!o.yes) throw new CliError(`deleting ${username} deletes their keys and algorithms; pass --yes to confirm`, Exit.usage);
      await must(ctx.client(cmd).DELETE('/v1/users/{username}', user(username)));
      ctx.print(cmd, { deleted: username }, `deleted user ${username}`);
    });

  const keys = program.command('keys').description("API keys (the user's own key, or an admin key)");
  keys
    .command('create <username>')
    .description('create a key for a user (admin key); the key is printed once')
    .option('--label <label>', 'label shown in listings', '')
    .option('--admin', 'a PlatformAdminKey instead of a standard key')
    .option('--expires-at <time>', 'ISO 8601 time after which the key stops working')
    .option('--no-manage', 'the key may call algorithms but not manage them')
    .action(async (username: string, o: { label: string; admin?: boolean; expiresAt?: string; manage: boolean }, cmd: Command) => {
      const body = {
        key_label: o.label,
        key_type: o.admin ? ('PlatformAdminKey' as const) : ('AlgorithmKey' as const),
        ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
        permissions: { allow_algo_management: o.manage },
      };
      const made = await must(ctx.client(cmd).POST('/v1/admin/users/{username}/keys', { ...user(username), body }));
      ctx.print(cmd, made, `key ${made.id} for ${username} (shown once, store it now):\n  ${made.api_key}`);
    });
  keys
    .command('list <username>')
    .description("list a user's keys (never the keys themselves)")
    .action(async (username: string, _o, cmd: Command) => {
      const { results } = await must(ctx.client(cmd).GET('/v1/users/{username}/keys', user(username)));
      const line = (k: (typeof results)[number]) =>
        `${k.id}\t${k.key_prefix ?? k.api_key_mask}\t${k.key_type}\t${k.key_label || '-'}\tcreated ${k.created_at}\tlast used ${k.last_used_at ?? 'never'}\texpires ${k.expires_at ?? 'never'}`;
      ctx.print(cmd, results, results.map(line).join('\n') || '(no keys)');
    });
  keys
    .command('revoke <username> <key_id>')
    .description('revoke a key: refused at once here, within AUTH_CACHE_TTL_MS on every replica')
    .action(async (username: string, keyId: string, _o, cmd: Command) => {
      await must(ctx.client(cmd).DELETE('/v1/users/{username}/keys/{key_id}', key(username, keyId)));
      ctx.print(cmd, { revoked: keyId }, `revoked key ${keyId}`);
    });
  keys
    .command('rotate <username> <key_id>')
    .description('give a key a new secret (same id, label, permissions); the new key is printed once')
    .action(async (username: string, keyId: string, _o, cmd: Command) => {
      const rotated = await must(ctx.client(cmd).POST('/v1/users/{username}/keys/{key_id}/rotate', key(username, keyId)));
      ctx.print(cmd, rotated, `rotated key ${rotated.id} (the old secret no longer works); new key, shown once:\n  ${rotated.api_key}`);
    });
}
