import express from 'express';
import { databaseAnswers } from '../platform/database/connection';
import type { EngineDeps } from '../platform/deps';
import { requireApiToken, requireScope } from '../orgs/routes/authentication';
import { errorHandler, sendErrors } from '../platform/http/errors';
import { jsonApiBody, refuseNulInQuery } from '../platform/http/jsonApi';
import { rateLimitPerOrg } from '../platform/http/rateLimit';
import { openApiDocument } from '../platform/openapi/document';
import { codecRoutes } from '../platform/temporal/codecRoutes';
import { applicationRoutes } from '../applications/routes/applications';
import { documentRoutes } from '../applications/routes/documents';
import { redactionRoutes } from '../applications/routes/redaction';
import { eventRoutes } from '../webhooks/routes/events';
import { verificationJobRoutes } from '../verification/job/routes';
import { webhookRoutes } from '../webhooks/routes/webhooks';
import { apiKeyRoutes } from '../orgs/routes/apiKeys';

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

  // Temporal's codec endpoint, ahead of the general authentication: the Web UI's CORS preflight carries no key.
  app.use(codecRoutes(deps, requireScope(deps.db, 'operator')));
  app.use(requireApiToken(deps.db));
  app.use(rateLimitPerOrg(deps.config.RATE_LIMIT_REQUESTS_PER_MINUTE));
  app.use(refuseNulInQuery);
  // Before the JSON parser: a job is admitted (rate, queue) before its body is read, and parses its own.
  app.use(verificationJobRoutes(deps));
  app.use(jsonApiBody());
  app.use(applicationRoutes(deps));
  app.use(redactionRoutes(deps));
  app.use(documentRoutes(deps));
  app.use(webhookRoutes(deps));
  app.use(eventRoutes(deps));
  app.use(apiKeyRoutes(deps));
  app.use((req, res) => sendErrors(res, 404, [{ status: '404', title: 'Not Found', detail: `no route for ${req.method} ${req.path}` }]));
  app.use(errorHandler);
  return app;
}
