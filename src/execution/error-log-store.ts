// Failed executions, newest first, for the errors endpoints. Rows older than the retention are
// removed as new ones arrive, so the table stays bounded by recent failures.
import type { Db } from '../platform/db';

export interface ExecutionError {
  algorithmId: string;
  requestId: string;
  version: string;
  caller: string; // username billed for the call
  errorType: string;
  message: string;
  stacktrace?: string;
  sessionId: string;
}

export interface ErrorLogRow extends ExecutionError {
  owner: string;
  name: string;
  createdAt: Date;
}

const RETENTION = "interval '7 days'";
export const MAX_ERRORS = 200;

export class ErrorLogStore {
  private inserts = 0;
  constructor(private readonly db: Db) {}

  async record(e: ExecutionError): Promise<void> {
    await this.db('algorithm_errors').insert({
      algorithm_id: e.algorithmId, request_id: e.requestId, version: e.version, caller: e.caller,
      error_type: e.errorType, message: e.message.slice(0, 10_000), stacktrace: e.stacktrace?.slice(0, 20_000) ?? null, session_id: e.sessionId,
    });
    if (++this.inserts % 100 === 0) await this.db.raw(`DELETE FROM algorithm_errors WHERE created_at < now() - ${RETENTION}`);
  }

  /** The last 7 days of one algorithm's errors, or of every algorithm of one owner. */
  async recent(filter: { algorithmId: string } | { ownerId: string }): Promise<ErrorLogRow[]> {
    const q = this.db('algorithm_errors as e')
      .join('algorithms as a', 'a.id', 'e.algorithm_id')
      .join('users as u', 'u.id', 'a.owner_id')
      .select('e.*', 'a.name', 'u.username as owner')
      .whereRaw(`e.created_at >= now() - ${RETENTION}`)
      .orderBy('e.id', 'desc')
      .limit(MAX_ERRORS);
    if ('algorithmId' in filter) q.where('e.algorithm_id', filter.algorithmId);
    else q.where('a.owner_id', filter.ownerId);
    return (await q).map((r: Record<string, unknown>) => ({
      algorithmId: r.algorithm_id as string, requestId: r.request_id as string, version: r.version as string, caller: r.caller as string,
      errorType: r.error_type as string, message: r.message as string, stacktrace: (r.stacktrace as string | null) ?? undefined,
      sessionId: r.session_id as string, owner: r.owner as string, name: r.name as string, createdAt: r.created_at as Date,
    }));
  }
}
