import { Command, CommanderError } from 'commander';
import { accountCommands } from './account-commands';
import { algoCommands } from './algo-commands';
import { CliContext, type CliIo, Exit, exitFor } from './cli-context';
import { insightsCommands } from './insights-commands';
import { operatorCommands } from './operator-commands';

/**
 * The `beacon` command line: operator tasks against the database (migrate, admin create-key), the
 * HTTP API through the typed client (users, keys, insights, algo) and secret generation. Returns
 * the exit code; bin/beacon.js passes in argv and the environment and sets process.exitCode.
 */
export async function runCli(argv: string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<number> {
  const ctx = new CliContext(io, env);
  const program = new Command('beacon')
    .description('Operate Beacon: database, users and keys, Insights, algorithms')
    .option('--url <url>', 'Beacon base URL (env BEACON_URL)', env.BEACON_URL ?? 'http://127.0.0.1:8080')
    .option('--key <apiKey>', 'API key to call with (env BEACON_API_KEY; never shown as a default)')
    .option('--json', 'print JSON (one document) instead of text')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  operatorCommands(program, ctx);
  accountCommands(program, ctx);
  insightsCommands(program, ctx);
  algoCommands(program, ctx);
  // Subcommands inherit the output and exit behaviour.
  const adopt = (c: Command) => {
    c.configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride().showHelpAfterError('(add --help for usage)');
    c.commands.forEach(adopt);
  };
  program.commands.forEach(adopt);

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return Exit.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return Exit.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not failures; anything else commander refuses is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? Exit.ok : Exit.usage;
    }
    const { message, code } = exitFor(err);
    if (message) io.stderr(`beacon: ${message}\n`);
    return code;
  }
}
