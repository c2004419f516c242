import type { BacklogStats, Counters, OverflowPolicy } from './outbox-store';
import type { RelayFailureReason, RelayState } from './relay';

/** GET /v1/admin/insights-connection/status and the insights part of /readyz. */
export interface InsightsStatus {
  configured: boolean;
  relay_enabled: boolean;
  /** This instance's producer is connected and its last attempt succeeded. */
  connected: boolean;
  last_error: { reason: RelayFailureReason; message: string } | null;
  last_error_at: string | null;
  /** Undelivered payloads: exact up to 100,000, an upper bound above. Cluster-wide. */
  backlog: number;
  oldest_undelivered_age_seconds: number | null;
  /** The last failure stored with the oldest undelivered batch (survives restarts). */
  undelivered_last_error: { reason: string; message: string; at: string; attempts: number } | null;
  /** Cluster-wide, durable counters (survive restarts). */
  delivered: number;
  failed: number;
  dropped: number;
  set_aside: number;
  overflow_policy: OverflowPolicy;
  max_backlog: number;
}

export interface StatusSources {
  configured(): Promise<boolean>;
  relay(): RelayState;
  relayEnabled: boolean;
  backlog(): Promise<BacklogStats>;
  counters(): Promise<Counters>;
  overflowPolicy: OverflowPolicy;
  maxBacklog: number;
}

export async function readStatus(s: StatusSources): Promise<InsightsStatus> {
  const [configured, backlog, counters] = await Promise.all([s.configured(), s.backlog(), s.counters()]);
  const relay = s.relay();
  return {
    configured,
    relay_enabled: s.relayEnabled,
    connected: configured && relay.connected,
    last_error: relay.lastError ?? null,
    last_error_at: relay.lastErrorAt?.toISOString() ?? null,
    backlog: backlog.size,
    oldest_undelivered_age_seconds: backlog.oldestAgeSeconds === undefined ? null : Math.round(backlog.oldestAgeSeconds * 10) / 10,
    undelivered_last_error: backlog.oldestLastError
      ? { ...backlog.oldestLastError, at: backlog.oldestLastError.at.toISOString() }
      : null,
    delivered: counters.delivered,
    failed: counters.failed,
    dropped: counters.dropped,
    set_aside: counters.setAside,
    overflow_policy: s.overflowPolicy,
    max_backlog: s.maxBacklog,
  };
}
