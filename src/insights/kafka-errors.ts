// Turns whatever kafkajs (or Node's socket/TLS layer under it) threw into one precise cause that an
// operator can act on. kafkajs wraps errors several levels deep (NumberOfRetriesExceeded ->
// originalError, NonRetriable -> cause, AggregateError -> errors), so the whole chain is searched
// and the most specific cause wins.

export const FAILURE_REASONS = [
  'unreachable',
  'authentication_failed',
  'tls_verification_failed',
  'topic_missing',
  'not_authorised',
  'message_too_large',
  'broker_error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface Classified {
  reason: FailureReason;
  message: string;
}

/** A Kafka failure after classification; the relay and the test route both speak in these. */
export class DeliveryError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One payload is larger than the broker accepts even on its own: it can never be delivered. */
export class PoisonPayloadError extends DeliveryError {
  constructor(
    readonly rowId: string,
    /** Position of the payload in its outbox batch row. */
    readonly index: number,
    readonly requestId: string,
    message: string,
  ) {
    super('message_too_large', message);
    this.name = 'PoisonPayloadError';
  }
}

interface ErrorLike {
  name?: string;
  message?: string;
  type?: string;
  code?: string | number;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown[];
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const AUTH_TYPES = new Set(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM']);
const ACL_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const NETWORK_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSTimeout',
]);

/** Every error in kafkajs' wrapping chain, outermost first. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 20) {
    const e = queue.shift() as ErrorLike | undefined;
    if (!e || typeof e !== 'object' || out.includes(e)) continue;
    out.push(e);
    queue.push(e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return out;
}

const isTls = (e: ErrorLike) =>
  TLS_CODES.has(String(e.code)) || /certificate|self[- ]signed|altnames|ERR_SSL|SSL routines|wrong version number/i.test(e.message ?? '');

export function classifyKafkaError(err: unknown): Classified {
  if (err instanceof DeliveryError) return { reason: err.reason, message: err.message };
  const all = chain(err);
  const innermost = all[all.length - 1] ?? {};
  const detail = (e: ErrorLike) => e.message ?? String(e);
  const find = (pred: (e: ErrorLike) => boolean) => all.find(pred);

  const auth = find((e) => e.name === 'KafkaJSSASLAuthenticationError' || AUTH_TYPES.has(e.type ?? ''));
  if (auth) return { reason: 'authentication_failed', message: `The broker rejected the credentials: ${detail(auth)}` };
  const tls = find(isTls);
  if (tls) return { reason: 'tls_verification_failed', message: `TLS verification of the broker failed: ${detail(tls)}` };
  const acl = find((e) => ACL_TYPES.has(e.type ?? ''));
  if (acl) return { reason: 'not_authorised', message: `The broker refused access (ACLs): ${detail(acl)}` };
  const tooLarge = find((e) => e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE');
  if (tooLarge) return { reason: 'message_too_large', message: `The broker refused the batch as too large: ${detail(tooLarge)}` };
  const topic = find(
    (e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || e.name === 'KafkaJSTopicMetadataNotLoaded' || e.name === 'KafkaJSMetadataNotLoaded',
  );
  if (topic) return { reason: 'topic_missing', message: `The topic does not exist on the broker: ${detail(topic)}` };
  const net = find((e) => NETWORK_CODES.has(String(e.code)) || NETWORK_NAMES.has(e.name ?? '') || /Connection timeout/i.test(e.message ?? ''));
  if (net) {
    const closed = all.some((e) => e.name === 'KafkaJSConnectionClosedError' || e.code === 'ECONNRESET');
    const hint = closed ? ' (the broker closed the connection: does this listener expect another connection type, TLS or SASL?)' : '';
    return { reason: 'unreachable', message: `Could not reach the broker: ${detail(innermost.message ? innermost : net)}${hint}` };
  }
  return { reason: 'broker_error', message: `Kafka request failed: ${detail(all[0] ?? {})}` };
}
