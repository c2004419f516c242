import type { NextFunction, Request, Response } from 'express';
import pino from 'pino';

export type Logger = pino.Logger;

// Structured JSON logs. Secrets never reach a log line: the redact list is a second line of defence,
// the first is that no code logs request bodies, headers or credentials.
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'beacon' },
      redact: {
        paths: ['*.authorization', '*.Authorization', '*.broker_password', '*.password', '*.api_key', 'headers.authorization'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination(1),
  );
}

/** One line per request, carrying the request id that callers see in X-Request-Id and Insights payloads. */
export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          requestId: req.requestId,
          method: req.method,
          route: (req.route?.path as string | undefined) ?? req.path,
          status: res.statusCode,
          durationMs: Number(process.hrtime.bigint() - start) / 1e6,
          user: req.principal?.username,
        },
        'request',
      );
    });
    next();
  };
}
