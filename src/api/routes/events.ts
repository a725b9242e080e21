import { Router } from 'express';
import type { EngineDeps } from '../../deps';

export function eventRoutes(_deps: EngineDeps): Router {
  const router = Router();
  return router;
}
