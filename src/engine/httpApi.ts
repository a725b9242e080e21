import express from 'express';
import { databaseAnswers } from '../platform/database/connection';
import type { EngineDeps } from '../platform/deps';
import { requireApiToken } from '../orgs/routes/authentication';
import { errorHandler, sendErrors } from '../platform/http/errors';
import { jsonApiBody, refuseNulInQuery } from '../platform/http/jsonApi';
import { openApiDocument } from '../platform/openapi/document';
import { applicationRoutes } from '../applications/routes/applications';
import { documentRoutes } from '../applications/routes/documents';
import { eventRoutes } from '../webhooks/routes/events';
import { verificationJobRoutes } from '../verification/job/routes';
import { webhookRoutes } from '../webhooks/routes/webhooks';

export function createApp(deps: EngineDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended'); // filter[status][]=… as Unit's SDK sends it

  app.get('/health', async (_req, res) => {
    const checks = { database: await databaseAnswers(deps.db), temporal: false };
    try {
      await deps.temporal.workflowService.getSystemInfo({});
      checks.temporal = true;
    } catch {
      /* reported below */
    }
    const ok = checks.database && checks.temporal;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  app.use(requireApiToken(deps.db));
  app.use(refuseNulInQuery);
  app.use(jsonApiBody());
  app.use(applicationRoutes(deps));
  app.use(documentRoutes(deps));
  app.use(webhookRoutes(deps));
  app.use(eventRoutes(deps));
  app.use(verificationJobRoutes(deps));
  app.use((req, res) => sendErrors(res, 404, [{ status: '404', title: 'Not Found', detail: `no route for ${req.method} ${req.path}` }]));
  app.use(errorHandler);
  return app;
}
