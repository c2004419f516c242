import type { NextFunction, Request, Response } from 'express';
import { ApiError, ErrorCode, isDatabaseUnavailable } from './errors';
import type { Logger } from './logger';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
}

/** Maps everything that can go wrong to the one documented body; details of 500s go to the log only. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) {
      logger.error({ err, requestId: req.requestId, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(apiErr.status);
    for (const [name, value] of Object.entries(apiErr.headers ?? {})) res.setHeader(name, value);
    if (apiErr.plainBody !== undefined) {
      res.json(apiErr.plainBody);
      return;
    }
    res.json({
      error: {
        id: req.requestId,
        code: apiErr.code,
        message: apiErr.message,
        ...(apiErr.details ? { details: apiErr.details } : {}),
      },
    });
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof URIError) return new ApiError(400, ErrorCode.InvalidRequest, 'Malformed percent-encoding in the request.');
  const bp = err as BodyParserError;
  switch (bp?.type) {
    case 'entity.parse.failed':
      return new ApiError(400, ErrorCode.MalformedJson, `Invalid JSON: ${bp.message ?? 'could not parse the body'}`);
    case 'entity.too.large':
      return new ApiError(413, ErrorCode.PayloadTooLarge, 'The request body is too large.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, ErrorCode.UnsupportedMediaType, bp.message ?? 'Unsupported encoding.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new ApiError(400, ErrorCode.InvalidRequest, bp.message ?? 'The request body could not be read.');
  }
  if (bp?.expose && typeof bp.status === 'number' && bp.status >= 400 && bp.status < 500) {
    return new ApiError(bp.status, ErrorCode.InvalidRequest, bp.message ?? 'Bad request.');
  }
  if (isDatabaseUnavailable(err)) {
    return new ApiError(503, ErrorCode.ServiceUnavailable, 'The database is unavailable; try again shortly.');
  }
  return new ApiError(500, ErrorCode.InternalServerError, 'Internal server error.');
}
