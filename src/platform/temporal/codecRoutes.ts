// The codec endpoint of Temporal's remote codec protocol, so that the Temporal Web UI and CLI show
// the history the engine sealed (payloadCodec.ts) in the clear to the people allowed to read it:
//
//   POST /codec/decode, POST /codec/encode   {payloads: [{metadata: {k: base64}, data: base64}]} both ways
//
// Decoding opens every org's history, so it takes an `operator` key
// (`temporal workflow show --codec-endpoint http://…/codec --codec-auth "Bearer <key>"`).
// The Web UI cannot send a key of ours; for the UI the engine serves the same endpoints under an
// unguessable path, /codec/ui/<TEMPORAL_UI_CODEC_SECRET>/…, given to the UI as its codec endpoint:
// whoever can open that UI can then read decrypted history, so the UI must be as closed as the
// key (loopback in `npm start`, 127.0.0.1 or behind SSO in the compose layout).
// The UI calls from its own origin: CORS admits TEMPORAL_CODEC_CORS_ORIGINS (default: the dev UI).
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { EngineDeps } from '../deps';
import { ApiError, parseOr400 } from '../http/errors';
import { PayloadDecryptionError, payloadCodec } from './payloadCodec';

/** Payloads per request: the UI sends one event's worth at a time. */
const MAX_PAYLOADS = 1000;
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const CodecBody = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string().max(256), base64).nullish(),
        data: base64.nullish(),
      }),
    )
    .max(MAX_PAYLOADS),
});
type JsonPayload = z.infer<typeof CodecBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const OPERATIONS = new Set(['encode', 'decode']);
const digest = (s: string) => createHash('sha256').update(s).digest();

/** The Web UI origins allowed to call the endpoint. */
export const codecCorsOrigins = (config: EngineDeps['config']): string[] =>
  config.TEMPORAL_CODEC_CORS_ORIGINS ?? [`http://localhost:${config.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`];

/**
 * Mount before the general authentication (a CORS preflight carries no key); `authenticate`
 * admits operator keys only.
 */
export function codecRoutes(deps: EngineDeps, authenticate: express.RequestHandler): express.Router {
  const router = express.Router();
  const codec = payloadCodec(deps.config.keyRing);
  const origins = new Set(codecCorsOrigins(deps.config));
  const uiSecret = deps.config.TEMPORAL_UI_CODEC_SECRET ? digest(deps.config.TEMPORAL_UI_CODEC_SECRET) : null;

  const cors = (req: Request, res: Response, next: NextFunction) => {
    if (!OPERATIONS.has(String(req.params.operation))) return next('router');
    const origin = req.header('origin');
    if (origin && origins.has(origin)) {
      res.vary('Origin');
      res.set('Access-Control-Allow-Origin', origin);
      if (req.method === 'OPTIONS') {
        res.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
        res.set('Access-Control-Max-Age', '600');
      }
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
  const uiPath = (req: Request, _res: Response, next: NextFunction) => {
    const given = digest(String(req.params.secret));
    if (!uiSecret || !timingSafeEqual(given, uiSecret)) return next(new ApiError(404, 'Not Found', 'no such codec endpoint'));
    next();
  };
  // Parsed only once the caller is known.
  const body = express.json({ limit: '4mb', type: () => true });
  const handle = async (req: Request, res: Response) => {
    const namespace = req.header('x-namespace');
    if (namespace && namespace !== deps.config.TEMPORAL_NAMESPACE)
      throw new ApiError(404, 'Not Found', `this codec serves the namespace ${deps.config.TEMPORAL_NAMESPACE}, not ${namespace}`);
    const { payloads } = parseOr400(CodecBody, req.body);
    let out: Payload[];
    try {
      out = req.params.operation === 'decode' ? await codec.decode(payloads.map(fromJson)) : await codec.encode(payloads.map(fromJson));
    } catch (err) {
      if (err instanceof PayloadDecryptionError) throw new ApiError(400, 'Bad Request', err.message, { code: 'undecodable_payload' });
      throw err;
    }
    res.json({ payloads: out.map(toJson) });
  };

  router.options('/codec/:operation', cors);
  router.post('/codec/:operation', cors, authenticate, body, handle);
  router.options('/codec/ui/:secret/:operation', cors);
  router.post('/codec/ui/:secret/:operation', cors, uiPath, body, handle);
  return router;
}
