import type { Logger } from '../platform/logger';

// kafkajs sometimes rejects a promise nobody awaits when a broker goes away mid-request
// (tulios/kafkajs#1686: an unhandled KafkaJSNonRetriableError / KafkaJSRequestTimeoutError takes
// the whole process down). Telemetry must never crash the service, so while a relay runs, an
// unhandled rejection that is a kafkajs error is logged and swallowed. Anything else is rethrown,
// which keeps Node's default behaviour (crash) for everyone else's bugs.
//
// The listener is process-wide by nature; it is shared and counted so that several apps in one
// process (the tests) install it once and remove it when the last one stops.

let installs = 0;
let loggerForGuard: Logger | undefined;

function isKafkaJsError(reason: unknown): boolean {
  const name = (reason as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS');
}

function onUnhandledRejection(reason: unknown): void {
  if (!isKafkaJsError(reason)) throw reason;
  loggerForGuard?.warn({ err: reason }, 'ignored an unhandled kafkajs rejection; the relay retries on its own');
}

/** Returns the function that removes this installation. */
export function guardKafkaRejections(logger: Logger): () => void {
  loggerForGuard = logger;
  if (installs++ === 0) process.on('unhandledRejection', onUnhandledRejection);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    if (--installs === 0) {
      process.off('unhandledRejection', onUnhandledRejection);
      loggerForGuard = undefined;
    }
  };
}
