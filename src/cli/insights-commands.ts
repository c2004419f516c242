import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { must, type Schemas } from '../client/beacon-client';
import { type CliContext, CliError, Exit } from './cli-context';

const statusLine = (s: Schemas['InsightsStatus']) =>
  `configured=${s.configured} connected=${s.connected} backlog=${s.backlog} delivered=${s.delivered} failed=${s.failed} dropped=${s.dropped}` +
  (s.last_error ? ` last_error=${s.last_error.reason}: ${s.last_error.message}` : '');

/** `beacon insights ...` (admin key). */
export function insightsCommands(program: Command, ctx: CliContext): void {
  const insights = program.command('insights').description('the Insights pipeline (admin key)');
  insights
    .command('status')
    .description('delivery status: connection, backlog, delivered, failed, dropped')
    .action(async (_o, cmd: Command) => {
      const s = await must(ctx.client(cmd).GET('/v1/admin/insights-connection/status'));
      ctx.print(cmd, s, statusLine(s));
    });
  insights
    .command('test')
    .description('test the stored connection end to end (or the one in --file); exit 1 when it fails')
    .option('--file <connection.json>', 'a connection body (as POST /v1/admin/insights-connection takes) to test instead')
    .action(async (o: { file?: string }, cmd: Command) => {
      let body: Schemas['InsightsConnectionRequest'] | Record<string, never> = {};
      if (o.file) {
        try {
          body = JSON.parse(fs.readFileSync(o.file, 'utf8'));
        } catch (err) {
          throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`, Exit.usage);
        }
      }
      const result = await ctx.progress(cmd, 'Testing the Insights connection', () => must(ctx.client(cmd).POST('/v1/admin/insights-connection/test', { body })));
      ctx.print(cmd, result, `${result.ok ? 'ok' : `failed (${result.reason})`}: ${result.message}`);
      if (!result.ok) throw new CliError('', Exit.failed);
    });
  // Follows GET /v1/admin/insights/live-tail (this instance's ring of recent payloads) with `after`, so
  // each poll brings only what changed; needs no Kafka access of its own.
  insights
    .command('tail')
    .description('follow payloads as they are stored (waiting) and acknowledged by Kafka (delivered); Ctrl-C stops')
    .option('--algorithm <owner/name>', 'only this algorithm')
    .option('--interval <seconds>', 'how often to poll', '1')
    .option('--count <n>', 'stop after n entries (default: never)')
    .option('--once', 'print what the tail holds now and stop')
    .option('--payload', 'print each payload as JSON under its line')
    .action(async (o: { algorithm?: string; interval: string; count?: string; once?: boolean; payload?: boolean }, cmd: Command) => {
      const interval = Number(o.interval);
      const count = o.count === undefined ? Infinity : Number(o.count);
      if (!(interval > 0) || !(count > 0)) throw new CliError('--interval and --count must be positive numbers', Exit.usage);
      let after: number | undefined;
      for (let printed = 0; printed < count; ) {
        const query = { ...(o.algorithm ? { algorithm: o.algorithm } : {}), ...(after !== undefined ? { after } : {}) };
        const tail = await must(ctx.client(cmd).GET('/v1/admin/insights/live-tail', { params: { query } }));
        for (const e of [...tail.entries].reverse().slice(0, count - printed)) {
          const line = `${e.at} ${e.state.padEnd(9)} ${e.algorithm}/${e.version} ${e.request_id}`;
          ctx.print(cmd, e, o.payload ? `${line}\n  ${JSON.stringify(e.payload)}` : line);
          printed++;
        }
        after = tail.last_seq;
        if (o.once) break;
        if (printed < count) await sleep(interval * 1000);
      }
    });
}
