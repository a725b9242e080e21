// /applications: create (starts the application workflow), get, list, cancel and review.
import type { UpdateDefinition } from '@temporalio/common';
import { Router, type Request } from 'express';
import {
  applicationStatus,
  deletePendingApplication,
  documentRefsOfApplications,
  getAggregate,
  insertApplication,
  listApplications,
  personsOfApplications,
  type ApplicationAggregate,
} from '../repository';
import { newApplication } from './newApplication';
import { answeredInHttp } from './workflowRequests';
import { refusedAsRedacted } from './redaction';
import { applicationDocument, serializeApplication } from './serialize';
import { executeApplicationUpdate, startApplicationWorkflow, WorkflowStartUnknown } from '../workflowClient';
import type { EngineDeps } from '../../platform/deps';
import { log } from '../../platform/log';
import { reviewDuties } from '../../orgs/repository';
import { reviewRefusal } from '../../orgs/reviewDuties';
import { issueReviewerCredential } from '../../orgs/reviewerCredential';
import { APPLICATION_TYPES } from '../domain';
import { allows, refusalOf, type TransitionName } from '../rules/applicationStateMachine';
import { cancelUpdate, reviewUpdate, type UpdateOutcome } from '../messages';
import { ApiError, conflict, notFound, parseOr400, ValidationError } from '../../platform/http/errors';
import { pageParams, route, sendDocument, unstorableText } from '../../platform/http/jsonApi';
import {
  CancelApplicationRequest,
  CreateApplicationRequest,
  ListApplicationsQuery,
  parseBody,
  ReviewApplicationRequest,
} from '../schemas/applications';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When the workflow did not answer the initial evaluation itself: waits briefly for it in the database. */
async function afterEvaluation(deps: EngineDeps, orgId: string, id: string, maxMs = 5000): Promise<ApplicationAggregate> {
  // Wait (briefly) for the workflow's initial evaluation, so the response carries the status and
  // the required documents as Unit's does. Polls one indexed column; the full read happens once.
  const until = Date.now() + maxMs;
  for (let wait = 10; Date.now() < until; wait = Math.min(wait * 1.5, 250)) {
    const status = await applicationStatus(deps.db, orgId, id);
    if (!status) throw notFound('application', id);
    if (status !== 'Pending') break;
    await sleep(wait);
  }
  const agg = await getAggregate(deps.db, deps.config.keyRing, orgId, id);
  if (!agg) throw notFound('application', id);
  return agg;
}

async function mustGet(deps: EngineDeps, orgId: string, id: string): Promise<ApplicationAggregate> {
  const agg = await getAggregate(deps.db, deps.config.keyRing, orgId, id);
  if (!agg) throw notFound('application', id);
  return agg;
}

function requireDocument(body: unknown) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError([
      {
        status: '400',
        title: 'Bad Request',
        detail: 'the body must be a JSON:API document: {"data": {"type": …, "attributes": {…}}}',
        code: 'invalid_body',
        source: { pointer: '' },
      },
    ]);
  }
}

export function applicationRoutes(deps: EngineDeps): Router {
  const router = Router();

  router.post(
    '/applications',
    route(async (req, res) => {
      requireDocument(req.body);
      const type = (req.body as { data?: { type?: unknown } }).data?.type;
      if (!APPLICATION_TYPES.includes(type as never)) {
        throw new ValidationError([
          {
            status: '400',
            title: 'Bad Request',
            code: 'invalid_field',
            source: { pointer: '/data/type' },
            detail: `data.type: must be one of ${APPLICATION_TYPES.join(', ')}${type === undefined ? '' : ` (got ${JSON.stringify(type)})`}`,
          },
        ]);
      }
      const body = parseBody(CreateApplicationRequest, req.body);
      const inserted = await insertApplication(deps.db, deps.config.keyRing, req.orgId, {
        ...newApplication(body.data, deps.config.keyRing),
        submittedByKeyId: req.apiKey.keyId,
      });
      if (inserted.kind === 'conflict') {
        throw conflict(
          `idempotencyKey ${JSON.stringify(body.data.attributes.idempotencyKey)} was already used for application ${inserted.application.id} with a different request`,
          'idempotency_key_reused',
        );
      }
      // A repeated request for an application its workflow has already evaluated: nothing to start.
      let started: 'evaluated' | 'started' = 'evaluated';
      if (inserted.kind === 'created' || inserted.application.status === 'Pending') {
        try {
          started = await startApplicationWorkflow(deps, inserted.application);
        } catch (err) {
          log.error('could not start the application workflow', { applicationId: inserted.application.id, error: (err as Error).message });
          if (!inserted.application.idempotency_key && !(err instanceof WorkflowStartUnknown)) {
            // Without a key the client cannot retry this very application: leave nothing behind
            // (only while it is still Pending, i.e. no workflow got to evaluate it).
            await deletePendingApplication(deps.db, inserted.application.id).catch(() => undefined);
          }
          throw new ApiError(
            503,
            'Service Unavailable',
            'the application could not be started; retry the request (with the same idempotencyKey)',
            { code: 'workflow_start_failed' },
          );
        }
      }
      const agg =
        started === 'evaluated'
          ? await mustGet(deps, req.orgId, inserted.application.id)
          : await afterEvaluation(deps, req.orgId, inserted.application.id);
      sendDocument(res, inserted.kind === 'created' ? 201 : 200, applicationDocument(agg));
    }),
  );

  router.get(
    '/applications',
    route(async (req, res) => {
      const q = parseOr400(ListApplicationsQuery, req.query, '', 'parameter');
      const { limit, offset } = pageParams(req.query);
      const s = q.filter?.status;
      const statuses = s === undefined ? undefined : typeof s === 'string' ? [s] : Array.isArray(s) ? s : Object.values(s);
      let tags: Record<string, string | null> | undefined;
      if (q.filter?.tags) {
        try {
          tags = JSON.parse(q.filter.tags);
        } catch {
          /* reported below */
        }
        if (
          !tags ||
          typeof tags !== 'object' ||
          Array.isArray(tags) ||
          Object.values(tags).some((v) => v !== null && typeof v !== 'string')
        ) {
          throw new ApiError(400, 'Bad Request', 'filter[tags] must be a JSON object of string values, e.g. {"key":"value"}', {
            code: 'invalid_parameter',
            source: { parameter: 'filter[tags]' },
          });
        }
        // JSON escapes reach what %00 cannot: a NUL or half a surrogate pair, which jsonb refuses (a 500).
        const bad = unstorableText(tags);
        if (bad)
          throw new ApiError(400, 'Bad Request', `filter[tags] must not contain ${bad}`, {
            code: 'invalid_parameter',
            source: { parameter: 'filter[tags]' },
          });
      }
      const { rows, total } = await listApplications(deps.db, deps.config.keyRing, req.orgId, {
        statuses,
        email: q.filter?.email,
        query: q.filter?.query,
        tags,
        sort: q.sort ?? '-createdAt',
        limit,
        offset,
      });
      const ids = rows.map((r) => r.id);
      const [persons, docs] = await Promise.all([
        personsOfApplications(deps.db, req.orgId, ids),
        documentRefsOfApplications(deps.db, req.orgId, ids),
      ]);
      sendDocument(res, 200, {
        data: rows.map((r) =>
          serializeApplication(
            r,
            persons.filter((p) => String(p.application_id) === r.id),
            docs.filter((d) => String(d.application_id) === r.id).map((d) => d.id),
          ),
        ),
        meta: { pagination: { total, limit, offset } },
      });
    }),
  );

  router.get(
    '/applications/:applicationId',
    route(async (req, res) => {
      sendDocument(res, 200, applicationDocument(await mustGet(deps, req.orgId, String(req.params.applicationId))));
    }),
  );

  /**
   * A decision asked of the application workflow (cancel, review): refused at once with the state
   * machine's own rule and words (the workflow's validator says the same), else sent as its update.
   */
  const decide = <Args extends [unknown]>(
    transition: TransitionName,
    update: UpdateDefinition<UpdateOutcome, Args>,
    argsOf: (body: unknown, req: Request, applicationId: string) => Promise<Args> | Args,
  ) =>
    route(async (req, res) => {
      requireDocument(req.body);
      const agg = await mustGet(deps, req.orgId, String(req.params.applicationId));
      // The stored id, not the path's (which may say 007 for 7): the workflow id and the reviewer's credential are made from it.
      const id = String(agg.application.id);
      if (agg.application.redacted_at) throw refusedAsRedacted(id);
      const args = await argsOf(req.body, req, id);
      if (!allows(transition, agg.application.status)) throw conflict(refusalOf(transition, agg.application.status), 'invalid_state');
      const out = await answeredInHttp(executeApplicationUpdate(deps, id, update, args));
      if (!out.ok) throw conflict(out.error ?? `application ${id} is ${out.status}`, 'invalid_state');
      sendDocument(res, 200, applicationDocument(await mustGet(deps, req.orgId, id)));
    });

  router.post(
    '/applications/:applicationId/cancel',
    decide('canceled', cancelUpdate, (body) => [{ reason: parseBody(CancelApplicationRequest, body).data.attributes.reason }]),
  );
  router.post(
    '/applications/:applicationId/review',
    decide('reviewed', reviewUpdate, async (body, req, applicationId) => {
      const { decision, reason } = parseBody(ReviewApplicationRequest, body).data.attributes;
      // The reviewer is the key; the workflow checks the credential again before it records the decision.
      const duties = await reviewDuties(deps.db, req.orgId, applicationId);
      const refusal = duties && reviewRefusal(req.apiKey, duties);
      if (refusal) throw new ApiError(403, 'Forbidden', refusal, { code: 'review_not_allowed' });
      const credential = issueReviewerCredential(deps.config.keyRing, {
        orgId: req.orgId,
        applicationId,
        decision,
        keyId: req.apiKey.keyId,
      });
      return [{ decision, reason, reviewer: req.apiKey.keyId, credential }];
    }),
  );

  return router;
}
