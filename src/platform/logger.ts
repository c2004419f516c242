import pino from 'pino';

export type Logger = pino.Logger;

// Structured JSON logs. Secrets never reach a log line: the redact list is a second line of defence,
// the first is that no code logs request bodies or credentials.
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'beacon' },
    redact: {
      paths: ['*.authorization', '*.Authorization', '*.broker_password', '*.password', '*.api_key', 'headers.authorization'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
