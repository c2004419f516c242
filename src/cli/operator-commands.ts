import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { createDb, type Db, migrationConfig } from '../platform/db';
import { startEmbeddedPostgres } from '../platform/embedded-postgres';
import { createAdminKey } from '../users/bootstrap-admin';
import { UserStore } from '../users/user-store';
import { type CliContext, CliError, Exit } from './cli-context';

/**
 * The database the service would use: DATABASE_URL, or the embedded PostgreSQL in EMBEDDED_PG_DIR
 * (started for the command and stopped after it; the service must not be running on that folder).
 */
async function withDatabase<T>(ctx: CliContext, use: (db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig(ctx.env);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.embeddedPg.dir, config.embeddedPg.port, (m) => ctx.io.stderr(`${m}\n`));
  const db = createDb(config.databaseUrl ?? embedded!.url, 2);
  try {
    return await use(db);
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

export function operatorCommands(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply pending database migrations (DATABASE_URL, or the embedded PostgreSQL)')
    .action(async (_o, cmd: Command) => {
      const applied = await withDatabase(ctx, async (db) => {
        const [, log] = (await db.migrate.latest(migrationConfig)) as [number, string[]];
        return log;
      });
      ctx.print(cmd, { applied }, applied.length ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'the database is up to date');
    });

  const admin = program.command('admin').description('operator tasks that go straight to the database');
  admin
    .command('create-key')
    .description('create (or --import) a PlatformAdminKey for the admin user; the key is printed once')
    .option('--import <key>', 'import this exact key (sim followed by at least 20 letters or digits)')
    .option('--label <label>', 'label shown in key listings', 'created by beacon admin create-key')
    .action(async (o: { import?: string; label: string }, cmd: Command) => {
      if (o.import !== undefined && !/^sim[A-Za-z0-9]{20,}$/.test(o.import)) {
        throw new CliError('--import must be sim followed by at least 20 letters or digits', Exit.usage);
      }
      const made = await withDatabase(ctx, (db) => createAdminKey(new UserStore(db), { apiKey: o.import, label: o.label })).catch((err) => {
        if ((err as { code?: string }).code === '23505') throw new CliError('that key cannot be imported (it already exists)', Exit.failed);
        throw err;
      });
      const body = { id: made.key.id, key_label: made.key.keyLabel, key_type: made.key.keyType, api_key: o.import ? undefined : made.apiKey };
      ctx.print(cmd, body, o.import ? `imported admin key ${made.key.id}` : `admin key ${made.key.id} (shown once, store it now):\n  ${made.apiKey}`);
    });

  program
    .command('secret')
    .description('secrets for the configuration')
    .command('generate')
    .description('print a new random BEACON_SECRET_KEY (32 bytes)')
    .option('--base64', 'base64 instead of hex')
    .action((o: { base64?: boolean }, cmd: Command) => {
      const secret = randomBytes(32).toString(o.base64 ? 'base64' : 'hex');
      ctx.print(cmd, { secret }, secret);
    });
}
