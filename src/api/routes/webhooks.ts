import { Router } from 'express';
import type { EngineDeps } from '../../deps';

export function webhookRoutes(_deps: EngineDeps): Router {
  const router = Router();
  return router;
}
