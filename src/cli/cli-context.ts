import type { Command } from 'commander';
import { BeaconApiError, type BeaconClient, createBeaconClient } from '../client/beacon-client';

/** Exit codes of every command (docs/cli.md). */
export const Exit = {
  ok: 0,
  /** Beacon refused (4xx/5xx), or the step itself failed: a failed build, a failed connection test, an algorithm error. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** Beacon or the database could not be reached. */
  unreachable: 3,
} as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A failure with its exit code; runCli prints the message and returns the code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface GlobalOptions {
  url: string;
  key?: string;
  json?: boolean;
}

/** What a command needs: its environment (passed in: only bin/beacon.js reads the process environment), output and a client. */
export class CliContext {
  constructor(
    readonly io: CliIo,
    readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  options(cmd: Command): GlobalOptions {
    const o = cmd.optsWithGlobals() as GlobalOptions;
    return { ...o, key: o.key ?? this.env.BEACON_API_KEY };
  }

  client(cmd: Command): BeaconClient {
    const o = this.options(cmd);
    return createBeaconClient(o.url, { apiKey: o.key });
  }

  /** --json prints the value as JSON; otherwise the human text (or the value as indented JSON). */
  print(cmd: Command, value: unknown, human?: string): void {
    if (this.options(cmd).json || human === undefined) this.io.stdout(`${JSON.stringify(value, null, this.options(cmd).json ? 0 : 2)}\n`);
    else this.io.stdout(human.endsWith('\n') ? human : `${human}\n`);
  }

  /** Progress of a long step on stderr (never with --json): a line now, a dot every second, the outcome at the end. */
  async progress<T>(cmd: Command, label: string, step: () => Promise<T>): Promise<T> {
    if (this.options(cmd).json) return step();
    const started = Date.now();
    this.io.stderr(`${label} `);
    const timer = setInterval(() => this.io.stderr('.'), 1000);
    try {
      const result = await step();
      this.io.stderr(` done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return result;
    } catch (err) {
      this.io.stderr(' failed\n');
      throw err;
    } finally {
      clearInterval(timer);
    }
  }
}

/** Turns what a command threw into its message and exit code. */
export function exitFor(err: unknown): { message: string; code: number } {
  if (err instanceof CliError) return { message: err.message, code: err.exitCode };
  if (err instanceof BeaconApiError) return { message: `Beacon refused: ${err.message}`, code: Exit.failed };
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (err instanceof TypeError && /fetch failed/.test(err.message)) {
    return { message: `cannot reach Beacon: ${cause?.code ?? cause?.message ?? err.message} (set --url or BEACON_URL)`, code: Exit.unreachable };
  }
  const code = (err as { code?: string })?.code;
  if (code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|28P01|3D000)$/.test(code)) {
    return { message: `cannot reach the database: ${(err as Error).message}`, code: Exit.unreachable };
  }
  return { message: (err as Error)?.message ?? String(err), code: Exit.failed };
}

/** "owner/name" or "owner/name/version" from the command line. */
export function algorithmRef(ref: string): { owner: string; name: string; version?: string } {
  const parts = ref.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new CliError(`expected owner/name or owner/name/version, got ${JSON.stringify(ref)}`, Exit.usage);
  }
  return { owner: parts[0], name: parts[1], version: parts[2] };
}
