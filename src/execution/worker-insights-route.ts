// POST /worker/:token/v1/insights — where algorithm code reports inference metrics.
//
// Each worker's ALGORITHMIA_API is <service>/worker/<token>, so the official clients' POST to
// $ALGORITHMIA_API/v1/insights lands here. The unguessable token, which only that worker's
// environment holds, is the authentication: the Python client sends no Authorization header.
// The body is read as JSON whatever the Content-Type says (clients differ, and curl sends a form
// type by default).
import { Router, type Request, type Response } from 'express';

export interface WorkerInsightsReceiver {
  reportInsights(token: string, body: unknown): { status: 200 | 400 | 404; message?: string };
}

const MAX_BODY_BYTES = 256 * 1024; // ten times the 25 KiB metrics limit, for whitespace and escapes

type Body = { ok: true; value: unknown } | { ok: false; message: string };

async function readJsonBody(req: Request): Promise<Body> {
  // Another parser mounted before this router may have consumed the stream already.
  if (req.body !== undefined && !Buffer.isBuffer(req.body) && typeof req.body !== 'string') {
    return { ok: true, value: req.body };
  }
  let text: string;
  if (Buffer.isBuffer(req.body) || typeof req.body === 'string') {
    text = req.body.toString();
  } else {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return { ok: false, message: `request body is larger than ${MAX_BODY_BYTES} bytes` };
      chunks.push(chunk as Buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text.trim() === '') return { ok: false, message: 'request body must be JSON: an array of {"insight_key", "insight_value"} objects' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `request body is not valid JSON: ${(e as Error).message}` };
  }
}

export function createWorkerInsightsRouter(pool: WorkerInsightsReceiver): Router {
  const router = Router();
  router.post('/worker/:token/v1/insights', async (req: Request, res: Response) => {
    const body = await readJsonBody(req);
    if (!body.ok) {
      // Drain what is left so the client sees the reply rather than a reset connection.
      req.resume();
      res.status(400).json({ error: { message: body.message } });
      return;
    }
    const outcome = pool.reportInsights(String(req.params.token), body.value);
    if (outcome.status === 200) res.status(200).json({ response: 'ok' });
    else res.status(outcome.status).json({ error: { message: outcome.message ?? 'insights report refused' } });
  });
  return router;
}
