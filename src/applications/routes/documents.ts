// /applications/:id/documents: list, upload (raw image/pdf body), download, and verify a
// SelfieVerification document with a completed verification job.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { getJob } from '../../verification/job/repository';
import type { EngineDeps } from '../../platform/deps';
import { ApiError, conflict, notFound, ValidationError } from '../../platform/http/errors';
import { route, sendDocument } from '../../platform/http/jsonApi';
import { personWorkflowId, type DocumentType } from '../domain';
import { documentUploadedSignal, verifyDocumentUpdate } from '../messages';
import {
  getAggregate,
  getDocument,
  getDocumentFile,
  getDocumentInContext,
  needsBack,
  storeUpload,
  UPLOADABLE,
  UPLOAD_OPEN_STATUSES,
} from '../repository';
import { canVerify, jobFacts, type VerifyRefusal } from '../rules/verification';
import { executePersonUpdate } from '../workflowClient';
import { parseBody } from '../schemas/applications';
import { UPLOAD_TYPES, VerifyDocumentRequest } from '../schemas/documents';
import { FILE_TYPES, sniffFileType } from '../../platform/http/fileSignature';
import { serializeDocument } from './serialize';
import { answeredInHttp } from './workflowRequests';

const isUploadType = (ct: string): ct is (typeof UPLOAD_TYPES)[number] => (UPLOAD_TYPES as readonly string[]).includes(ct);
const unsupported = (detail: string, code = 'unsupported_media_type') => new ApiError(415, 'Unsupported Media Type', detail, { code });

/** How each refusal of the verification rule (rules/verification.ts, which words it) is said in HTTP. */
const VERIFY_REFUSALS: Record<VerifyRefusal, { status: number; title: string; code: string; pointer?: string }> = {
  document_not_found: { status: 404, title: 'Not Found', code: 'not_found' },
  job_not_found: { status: 404, title: 'Not Found', code: 'not_found', pointer: '/data/attributes/jobId' },
  job_not_completed: { status: 409, title: 'Conflict', code: 'job_not_completed' },
  job_failed: { status: 422, title: 'Unprocessable Entity', code: 'job_failed', pointer: '/data/attributes/jobId' },
  job_already_used: { status: 409, title: 'Conflict', code: 'job_already_used' },
  document_not_verifiable: { status: 409, title: 'Conflict', code: 'document_not_verifiable' },
  application_not_awaiting_documents: { status: 409, title: 'Conflict', code: 'invalid_state' },
};
const verifyRefused = (refusal: VerifyRefusal, message: string) => {
  const r = VERIFY_REFUSALS[refusal];
  return new ApiError(r.status, r.title, message, { code: r.code, ...(r.pointer ? { source: { pointer: r.pointer } } : {}) });
};

export function documentRoutes(deps: EngineDeps): Router {
  const router = Router();
  const ids = (req: Request) => ({ applicationId: String(req.params.applicationId), documentId: String(req.params.documentId) });

  router.get(
    '/applications/:applicationId/documents',
    route(async (req, res) => {
      const agg = await getAggregate(deps.db, req.orgId, String(req.params.applicationId));
      if (!agg) throw notFound('application', String(req.params.applicationId));
      const byId = new Map(agg.persons.map((p) => [p.id, p]));
      sendDocument(res, 200, { data: agg.documents.map((d) => serializeDocument(d, byId.get(String(d.person_id)))) });
    }),
  );

  // Upload: the type is checked before the body is read, the size while it is read.
  const checkType = (req: Request, _res: Response, next: NextFunction) => {
    const ct = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!isUploadType(ct)) return next(unsupported(`Content-Type must be one of ${UPLOAD_TYPES.join(', ')} (got ${ct || 'none'})`));
    next();
  };
  const raw = express.raw({ type: () => true, limit: deps.config.MAX_UPLOAD_BYTES });
  const upload = (side: 'front' | 'back') =>
    route(async (req, res) => {
      const { applicationId, documentId } = ids(req);
      const ct = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      const bytes = req.body as Buffer;
      if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
        throw new ValidationError([
          { status: '400', title: 'Bad Request', detail: 'the request body must be the file', code: 'empty_file' },
        ]);
      }
      if (!isUploadType(ct) || sniffFileType(bytes, [ct]) !== ct)
        throw unsupported(
          `the file content is not ${isUploadType(ct) ? FILE_TYPES[ct].label : ct} as Content-Type ${ct} says`,
          'content_mismatch',
        );
      const agg = await getAggregate(deps.db, req.orgId, applicationId);
      if (!agg) throw notFound('application', applicationId);
      const doc = agg.documents.find((d) => d.id === documentId);
      if (!doc) throw notFound('document', documentId);
      if (!UPLOADABLE.includes(doc.document_type as DocumentType)) {
        throw conflict(
          `${doc.document_type} documents are not uploaded; verify them with POST /applications/${applicationId}/documents/${documentId}/verify`,
          'document_not_uploadable',
        );
      }
      if (side === 'back' && !needsBack(doc.document_type))
        throw conflict(
          `a ${doc.document_type} has no back side; upload it with PUT /applications/${applicationId}/documents/${documentId}`,
          'no_back_side',
        );
      if (agg.application.status !== 'AwaitingDocuments')
        throw conflict(
          `application ${applicationId} is ${agg.application.status}; documents can be uploaded only while AwaitingDocuments`,
          'invalid_state',
        );
      if (!UPLOAD_OPEN_STATUSES.includes(doc.status))
        throw conflict(`document ${documentId} is ${doc.status} and accepts no more files`, 'invalid_state');
      const stored = await storeUpload(deps.db, req.orgId, applicationId, documentId, side, ct, bytes);
      if (!stored) throw conflict(`document ${documentId} accepts no more files`, 'invalid_state');
      try {
        // The person the document belongs to takes it.
        await deps.temporal.workflow
          .getHandle(personWorkflowId(applicationId, String(doc.person_id)))
          .signal(documentUploadedSignal, { documentId, status: stored.status });
      } catch (err) {
        // The application closed between the check and the signal (deadline, cancel, denial).
        if ((err as Error)?.name === 'WorkflowNotFoundError')
          throw conflict(`application ${applicationId} is no longer accepting documents`, 'invalid_state');
        throw err;
      }
      sendDocument(res, 200, {
        data: serializeDocument(
          stored,
          agg.persons.find((p) => p.id === String(stored.person_id)),
        ),
      });
    });
  router.put('/applications/:applicationId/documents/:documentId', checkType, raw, upload('front'));
  router.put('/applications/:applicationId/documents/:documentId/back', checkType, raw, upload('back'));

  const download = (side: 'front' | 'back') =>
    route(async (req, res) => {
      const { applicationId, documentId } = ids(req);
      const doc = await getDocument(deps.db, req.orgId, applicationId, documentId);
      if (!doc) throw notFound('document', documentId);
      const file = await getDocumentFile(deps.db, req.orgId, applicationId, documentId, side);
      if (!file)
        throw new ApiError(404, 'Not Found', `no ${side === 'back' ? 'back side' : 'file'} was uploaded for document ${documentId}`, {
          code: 'not_found',
        });
      res
        .status(200)
        .type(file.contentType)
        .setHeader('content-disposition', `attachment; filename="document-${documentId}${side === 'back' ? '-back' : ''}"`)
        // A reviewer's browser must neither guess another type (HTML in a "JPEG") nor keep a copy.
        .setHeader('x-content-type-options', 'nosniff')
        .setHeader('cache-control', 'no-store');
      res.send(file.bytes);
    });
  router.get('/applications/:applicationId/documents/:documentId/download', download('front'));
  router.get('/applications/:applicationId/documents/:documentId/download/back', download('back'));

  router.post(
    '/applications/:applicationId/documents/:documentId/verify',
    route(async (req, res) => {
      const { applicationId, documentId } = ids(req);
      if (!req.body || typeof req.body !== 'object')
        throw new ValidationError([
          {
            status: '400',
            title: 'Bad Request',
            detail: 'the body must be {"data": {"type": "selfieVerification", "attributes": {"jobId": …}}}',
            code: 'invalid_body',
          },
        ]);
      const { jobId } = parseBody(VerifyDocumentRequest, req.body).data.attributes;
      const found = await getDocumentInContext(deps.db, req.orgId, applicationId, documentId);
      if (!found) throw notFound('application', applicationId);
      if (!found.document) throw notFound('document', documentId);
      const { document: doc, person } = found;
      const allowed = canVerify({
        documentId,
        jobId,
        applicationStatus: found.applicationStatus,
        job: jobFacts(await getJob(deps.db, req.orgId, jobId)),
        document: { documentType: doc.document_type, status: doc.status },
      });
      if (!allowed.ok) throw verifyRefused(allowed.refusal, allowed.message);
      const updateId = `verify-${documentId}-${jobId}`;
      const out = await answeredInHttp(
        executePersonUpdate(deps, applicationId, person.id, verifyDocumentUpdate, [{ documentId, jobId }], updateId),
      );
      if (!out.ok) throw verifyRefused(out.error, out.message);
      const fresh = await getDocument(deps.db, req.orgId, applicationId, documentId);
      sendDocument(res, 200, { data: serializeDocument(fresh!, person) });
    }),
  );

  return router;
}
