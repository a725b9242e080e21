import { Router } from 'express';
import type { EngineDeps } from '../../deps';

export function applicationRoutes(_deps: EngineDeps): Router {
  const router = Router();
  return router;
}
