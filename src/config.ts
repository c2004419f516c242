import Joi from 'joi';
import path from 'node:path';

// The only module that reads process.env (main.ts passes it in). Malformed values stop the start
// with a message naming the variable; nothing falls back silently.

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string | undefined;
  databaseUrl: string | undefined;
  embeddedPg: { dir: string; port: number | undefined }; // undefined: a free port, picked once per data folder
  metrics: { port: number | undefined; host: string };
  logLevel: string;
  bootstrapAdminKey: string | undefined;
  secretKey: Buffer | undefined;
  jwt: { secret?: string; publicKey?: string; algorithms: string[]; issuer?: string; audience?: string; maxLifetimeS: number } | undefined;
  /** How long a key lookup is cached per replica: a revoked key may work this long on other replicas. */
  authCacheTtlMs: number;
  workers: {
    maxPerVersion: number;
    maxTotal: number;
    maxPerUser: number; // one user's share of maxTotal
    maxWaitingPerVersion: number;
    backgroundPerUser: number; // output=void runs held per user
    backgroundTotal: number;
    idleTimeoutMs: number;
    memoryLimitMb: number;
    maxOutputBytes: number;
    maxResultBytes: number;
    workRoot: string;
    pythonBin: string;
    rscriptBin: string;
    /** off: algorithms run without a sandbox (unsafe; warned about on every start). */
    sandbox: 'on' | 'off';
    maxProcesses: number;
    maxOpenFiles: number;
    diskMb: number;
    tmpMb: number;
    cpuShares: number;
    cgroupRoot: string;
  };
  insights: {
    relayEnabled: boolean;
    relayBatchSize: number;
    relayIdleMs: number;
    relayLingerMs: number;
    compression: 'none' | 'gzip';
    maxBacklog: number;
    overflowPolicy: 'reject' | 'drop-oldest';
    spoolDir: string;
  };
  /** Algorithms calling algorithms: how deep a chain may go and how many calls one call may make. */
  nestedCalls: { maxDepth: number; maxFanout: number };
  /** Algorithm source over git smart HTTP. */
  git: { reposDir: string; maxRequestBytes: number; timeoutMs: number };
  shutdownTimeoutMs: number;
}

const schema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  PORT: Joi.number().integer().min(0).max(65535).default(8080),
  HOST: Joi.string().default('0.0.0.0'),
  PUBLIC_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  EMBEDDED_PG_DIR: Joi.string().default('.data/pg'),
  EMBEDDED_PG_PORT: Joi.number().integer().min(1).max(65535),
  METRICS_PORT: Joi.number().integer().min(0).max(65535),
  METRICS_HOST: Joi.string().default('127.0.0.1'),
  LOG_LEVEL: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
  BOOTSTRAP_ADMIN_KEY: Joi.string().pattern(/^sim[A-Za-z0-9]{20,}$/).message('BOOTSTRAP_ADMIN_KEY must look like sim followed by at least 20 letters or digits'),
  BEACON_SECRET_KEY: Joi.string().pattern(/^[A-Za-z0-9+/=]{43,44}$|^[0-9a-fA-F]{64}$/).message('BEACON_SECRET_KEY must be 32 bytes, as 64 hex characters or base64'),
  JWT_SECRET: Joi.string().min(16),
  JWT_PUBLIC_KEY: Joi.string(),
  JWT_ALGORITHMS: Joi.string().pattern(/^(HS|RS|ES|PS)(256|384|512)(,(HS|RS|ES|PS)(256|384|512))*$/),
  JWT_ISSUER: Joi.string(),
  JWT_AUDIENCE: Joi.string(),
  JWT_MAX_LIFETIME_S: Joi.number().integer().min(1).max(30 * 24 * 3600).default(24 * 3600),
  AUTH_CACHE_TTL_MS: Joi.number().integer().min(0).max(10_000).default(2_000),
  WORKER_MAX_PER_VERSION: Joi.number().integer().min(1).max(64).default(2),
  WORKER_MAX_TOTAL: Joi.number().integer().min(1).max(1024).default(16),
  WORKER_MAX_PER_USER: Joi.number().integer().min(1).max(1024),
  WORKER_MAX_WAITING_PER_VERSION: Joi.number().integer().min(0).max(100_000).default(64),
  BACKGROUND_MAX_PER_USER: Joi.number().integer().min(1).max(100_000).default(16),
  BACKGROUND_MAX_TOTAL: Joi.number().integer().min(1).max(1_000_000).default(64),
  WORKER_IDLE_TIMEOUT_MS: Joi.number().integer().min(1000).default(300_000),
  WORKER_MEMORY_MB: Joi.number().integer().min(64).default(1024),
  WORKER_MAX_OUTPUT_BYTES: Joi.number().integer().min(1024).default(1024 * 1024),
  WORKER_MAX_RESULT_BYTES: Joi.number().integer().min(1024).default(15 * 1024 * 1024),
  WORK_DIR: Joi.string().default('.data/workers'),
  PYTHON_BIN: Joi.string().default('/usr/bin/python3'),
  RSCRIPT_BIN: Joi.string().default('Rscript'),
  WORKER_SANDBOX: Joi.string().valid('on', 'off').default('on'),
  WORKER_MAX_PROCESSES: Joi.number().integer().min(4).max(100_000).default(256),
  WORKER_MAX_OPEN_FILES: Joi.number().integer().min(64).max(1_048_576).default(1024),
  WORKER_DISK_MB: Joi.number().integer().min(1).default(512),
  WORKER_TMP_MB: Joi.number().integer().min(1).default(256),
  WORKER_CPU_SHARES: Joi.number().integer().min(2).max(262_144).default(1024),
  WORKER_CGROUP_ROOT: Joi.string().default('/sys/fs/cgroup'),
  INSIGHTS_RELAY_ENABLED: Joi.boolean().truthy('1').falsy('0').default(true),
  INSIGHTS_RELAY_BATCH_SIZE: Joi.number().integer().min(1).max(50_000).default(2000),
  INSIGHTS_RELAY_IDLE_MS: Joi.number().integer().min(10).max(60_000).default(200),
  INSIGHTS_RELAY_LINGER_MS: Joi.number().integer().min(0).max(1_000).default(50),
  // Removed settings fail the start rather than being ignored: the relay thread measured no
  // better (docs/benchmarks.md); the outbox always commits synchronously (durable by default).
  INSIGHTS_RELAY_THREAD: Joi.any().forbidden().messages({
    'any.unknown': 'INSIGHTS_RELAY_THREAD was removed: run relay replicas instead (INSIGHTS_RELAY_ENABLED=false on the API replicas, docs/operations.md)',
  }),
  INSIGHTS_COMPRESSION: Joi.string().valid('none', 'gzip').default('none'),
  INSIGHTS_MAX_BACKLOG: Joi.number().integer().min(1).default(10_000_000),
  INSIGHTS_OVERFLOW_POLICY: Joi.string().valid('reject', 'drop-oldest').default('reject'),
  INSIGHTS_SPOOL_DIR: Joi.string().default('.data/insights-spool'),
  INSIGHTS_OUTBOX_SYNC_COMMIT: Joi.any().forbidden().messages({
    'any.unknown': 'INSIGHTS_OUTBOX_SYNC_COMMIT was removed: the Insights outbox always commits synchronously (docs/insights.md)',
  }),
  NESTED_CALL_MAX_DEPTH: Joi.number().integer().min(0).max(64).default(5),
  NESTED_CALL_MAX_FANOUT: Joi.number().integer().min(1).max(10_000).default(100),
  GIT_REPOS_DIR: Joi.string().default('.data/git'),
  GIT_MAX_REQUEST_BYTES: Joi.number().integer().min(1024).default(32 * 1024 * 1024),
  GIT_TIMEOUT_MS: Joi.number().integer().min(1000).default(120_000),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(30_000),
}).unknown(true);

export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const { value: v, error } = schema.validate(env, { abortEarly: false, convert: true });
  if (error) {
    throw new Error(`Invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  }
  const secretKey = v.BEACON_SECRET_KEY
    ? Buffer.from(v.BEACON_SECRET_KEY, /^[0-9a-fA-F]{64}$/.test(v.BEACON_SECRET_KEY) ? 'hex' : 'base64')
    : undefined;
  if (secretKey && secretKey.length !== 32) throw new Error('Invalid configuration: BEACON_SECRET_KEY must decode to 32 bytes');
  if (v.NODE_ENV === 'production' && !secretKey) {
    throw new Error('Invalid configuration: BEACON_SECRET_KEY is required when NODE_ENV=production (it encrypts broker passwords)');
  }
  if (v.JWT_SECRET && v.JWT_PUBLIC_KEY) throw new Error('Invalid configuration: set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  const jwtKey = v.JWT_SECRET ?? v.JWT_PUBLIC_KEY;
  const config: Config = {
    env: v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    publicUrl: v.PUBLIC_URL?.replace(/\/$/, ''),
    databaseUrl: v.DATABASE_URL,
    embeddedPg: { dir: path.resolve(cwd, v.EMBEDDED_PG_DIR), port: v.EMBEDDED_PG_PORT },
    metrics: { port: v.METRICS_PORT, host: v.METRICS_HOST },
    logLevel: v.LOG_LEVEL,
    bootstrapAdminKey: v.BOOTSTRAP_ADMIN_KEY,
    secretKey,
    jwt: jwtKey
      ? {
          secret: v.JWT_SECRET,
          publicKey: v.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
          algorithms: (v.JWT_ALGORITHMS ?? (v.JWT_SECRET ? 'HS256' : 'RS256')).split(','),
          issuer: v.JWT_ISSUER,
          audience: v.JWT_AUDIENCE,
          maxLifetimeS: v.JWT_MAX_LIFETIME_S,
        }
      : undefined,
    authCacheTtlMs: v.AUTH_CACHE_TTL_MS,
    workers: {
      maxPerVersion: v.WORKER_MAX_PER_VERSION,
      maxTotal: v.WORKER_MAX_TOTAL,
      // By default one user may hold three quarters of the workers: the rest stay for the others.
      maxPerUser: Math.min(v.WORKER_MAX_PER_USER ?? Math.max(1, Math.ceil(v.WORKER_MAX_TOTAL * 0.75)), v.WORKER_MAX_TOTAL),
      maxWaitingPerVersion: v.WORKER_MAX_WAITING_PER_VERSION,
      backgroundPerUser: Math.min(v.BACKGROUND_MAX_PER_USER, v.BACKGROUND_MAX_TOTAL),
      backgroundTotal: v.BACKGROUND_MAX_TOTAL,
      idleTimeoutMs: v.WORKER_IDLE_TIMEOUT_MS,
      memoryLimitMb: v.WORKER_MEMORY_MB,
      maxOutputBytes: v.WORKER_MAX_OUTPUT_BYTES,
      maxResultBytes: v.WORKER_MAX_RESULT_BYTES,
      workRoot: path.resolve(cwd, v.WORK_DIR),
      pythonBin: v.PYTHON_BIN,
      rscriptBin: v.RSCRIPT_BIN,
      sandbox: v.WORKER_SANDBOX,
      maxProcesses: v.WORKER_MAX_PROCESSES,
      maxOpenFiles: v.WORKER_MAX_OPEN_FILES,
      diskMb: v.WORKER_DISK_MB,
      tmpMb: v.WORKER_TMP_MB,
      cpuShares: v.WORKER_CPU_SHARES,
      cgroupRoot: v.WORKER_CGROUP_ROOT,
    },
    insights: {
      relayEnabled: v.INSIGHTS_RELAY_ENABLED,
      relayBatchSize: v.INSIGHTS_RELAY_BATCH_SIZE,
      relayIdleMs: v.INSIGHTS_RELAY_IDLE_MS,
      relayLingerMs: v.INSIGHTS_RELAY_LINGER_MS,
      compression: v.INSIGHTS_COMPRESSION,
      maxBacklog: v.INSIGHTS_MAX_BACKLOG,
      overflowPolicy: v.INSIGHTS_OVERFLOW_POLICY,
      spoolDir: path.resolve(cwd, v.INSIGHTS_SPOOL_DIR),
    },
    nestedCalls: { maxDepth: v.NESTED_CALL_MAX_DEPTH, maxFanout: v.NESTED_CALL_MAX_FANOUT },
    git: { reposDir: path.resolve(cwd, v.GIT_REPOS_DIR), maxRequestBytes: v.GIT_MAX_REQUEST_BYTES, timeoutMs: v.GIT_TIMEOUT_MS },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
  };
  return Object.freeze(config);
}
