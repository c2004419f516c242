import type { InsightsRecord } from './insights-sink';

export const CE_TYPE = 'com.algorithmia.insights.v1';
export const CE_SPECVERSION = '1.0';

/**
 * Algorithmia's flat payload: operational fields plus each inference metric as a top-level key.
 * ASCII-only JSON, because existing consumers decode it as ASCII.
 */
export function buildPayload(r: InsightsRecord): string {
  const body: Record<string, unknown> = {
    ...r.metrics,
    request_id: r.requestId,
    session_id: r.sessionId,
    time: r.time.toISOString(),
    duration_milliseconds: Math.round(r.durationMs),
    algorithm_owner: r.owner,
    algorithm_name: r.name,
    algorithm_version: r.version,
  };
  return JSON.stringify(body).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const messageKey = (r: Pick<InsightsRecord, 'owner' | 'name'>): string => `${r.owner}/${r.name}`;
export const ceSource = (r: Pick<InsightsRecord, 'owner' | 'name' | 'version'>): string =>
  `/algorithms/${r.owner}/${r.name}/${r.version}`;

/** CloudEvents Kafka binary-mode headers, so consumers can deduplicate on ce_id and route on ce_type. */
export function cloudEventHeaders(row: { requestId: string; ceSource: string; eventTime: string }): Record<string, string> {
  return {
    ce_specversion: CE_SPECVERSION,
    ce_id: row.requestId,
    ce_type: CE_TYPE,
    ce_source: row.ceSource,
    ce_time: row.eventTime,
    'content-type': 'application/json',
  };
}
