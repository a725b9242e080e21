// /applications/:id/documents: list, upload (raw image/pdf body), download, and verify a
// SelfieVerification document with a completed verification job.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { getAggregate, getDocument, getDocumentFile, getDocumentInContext, listDocuments, needsBack, storeUpload, UPLOADABLE, UPLOAD_OPEN_STATUSES } from '../repository';
import { serializeDocument } from '../serialize';
import { executeApplicationUpdate, executePersonUpdate } from '../workflowClient';
import type { EngineDeps } from '../../platform/deps';
import { applicationWorkflowId, documentUploadedSignal, personWorkflowId, verifyDocumentUpdate, type DocumentStatus, type DocumentType, type VerifyErrorCode } from '../messages';
import { ApiError, conflict, notFound, ValidationError } from '../../platform/http/errors';
import { route, sendDocument } from '../../platform/http/jsonApi';
import { parseBody } from '../schemas/applications';
import { matchesMagic, UPLOAD_TYPES, VerifyDocumentRequest } from '../schemas/documents';

const unsupported = (detail: string, code = 'unsupported_media_type') => new ApiError(415, 'Unsupported Media Type', detail, { code });

const VERIFY_ERRORS: Record<VerifyErrorCode, (jobId: string) => ApiError> = {
  document_not_found: () => notFound('document', ''),
  document_not_verifiable: () => conflict('the document is not a SelfieVerification document awaiting verification', 'document_not_verifiable'),
  job_not_found: (j) => new ApiError(404, 'Not Found', `verification job ${j} was not found`, { code: 'not_found', source: { pointer: '/data/attributes/jobId' } }),
  job_not_completed: (j) => conflict(`verification job ${j} is not completed yet (job not completed); poll GET /verification-jobs/${j} until it is`, 'job_not_completed'),
  job_failed: (j) => new ApiError(422, 'Unprocessable Entity', `verification job ${j} failed and cannot verify a document; start a new job`, { code: 'job_failed', source: { pointer: '/data/attributes/jobId' } }),
  job_already_used: (j) => conflict(`verification job ${j} was already used to verify a document; start a new job`, 'job_already_used'),
  application_not_awaiting_documents: () => conflict('the application is not AwaitingDocuments', 'invalid_state'),
};

export function documentRoutes(deps: EngineDeps): Router {
  const router = Router();
  const ids = (req: Request) => ({ applicationId: String(req.params.applicationId), documentId: String(req.params.documentId) });

  router.get('/applications/:applicationId/documents', route(async (req, res) => {
    const agg = await getAggregate(deps.db, req.orgId, String(req.params.applicationId));
    if (!agg) throw notFound('application', String(req.params.applicationId));
    const byId = new Map(agg.persons.map((p) => [p.id, p]));
    sendDocument(res, 200, { data: agg.documents.map((d) => serializeDocument(d, byId.get(String(d.person_id)))) });
  }));

  // Upload: the type is checked before the body is read, the size while it is read.
  const checkType = (req: Request, _res: Response, next: NextFunction) => {
    const ct = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!UPLOAD_TYPES[ct]) return next(unsupported(`Content-Type must be one of ${Object.keys(UPLOAD_TYPES).join(', ')} (got ${ct || 'none'})`));
    next();
  };
  const raw = express.raw({ type: () => true, limit: deps.config.MAX_UPLOAD_BYTES });
  const upload = (side: 'front' | 'back') => route(async (req, res) => {
    const { applicationId, documentId } = ids(req);
    const ct = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const bytes = req.body as Buffer;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
      throw new ValidationError([{ status: '400', title: 'Bad Request', detail: 'the request body must be the file', code: 'empty_file' }]);
    }
    if (!matchesMagic(ct, bytes)) throw unsupported(`the file content is not ${UPLOAD_TYPES[ct].label} as Content-Type ${ct} says`, 'content_mismatch');
    const agg = await getAggregate(deps.db, req.orgId, applicationId);
    if (!agg) throw notFound('application', applicationId);
    const doc = agg.documents.find((d) => d.id === documentId);
    if (!doc) throw notFound('document', documentId);
    if (!UPLOADABLE.includes(doc.document_type as DocumentType)) {
      throw conflict(`${doc.document_type} documents are not uploaded; verify them with POST /applications/${applicationId}/documents/${documentId}/verify`, 'document_not_uploadable');
    }
    if (side === 'back' && !needsBack(doc.document_type)) throw conflict(`a ${doc.document_type} has no back side; upload it with PUT /applications/${applicationId}/documents/${documentId}`, 'no_back_side');
    if (agg.application.status !== 'AwaitingDocuments') throw conflict(`application ${applicationId} is ${agg.application.status}; documents can be uploaded only while AwaitingDocuments`, 'invalid_state');
    if (!UPLOAD_OPEN_STATUSES.includes(doc.status as DocumentStatus)) throw conflict(`document ${documentId} is ${doc.status} and accepts no more files`, 'invalid_state');
    const stored = await storeUpload(deps.db, req.orgId, applicationId, documentId, side, ct, bytes);
    if (!stored) throw conflict(`document ${documentId} accepts no more files`, 'invalid_state');
    try {
      // Protocol 2: the person the document belongs to takes it; protocol 1: the application forwards it.
      const workflowId = agg.application.workflow_protocol === 2 ? personWorkflowId(applicationId, String(doc.person_id)) : applicationWorkflowId(applicationId);
      await deps.temporal.workflow.getHandle(workflowId).signal(documentUploadedSignal, { documentId, status: stored.status as DocumentStatus });
    } catch (err) {
      // The application closed between the check and the signal (deadline, cancel, denial).
      if ((err as Error)?.name === 'WorkflowNotFoundError') throw conflict(`application ${applicationId} is no longer accepting documents`, 'invalid_state');
      throw err;
    }
    sendDocument(res, 200, { data: serializeDocument(stored, agg.persons.find((p) => p.id === String(stored.person_id))) });
  });
  router.put('/applications/:applicationId/documents/:documentId', checkType, raw, upload('front'));
  router.put('/applications/:applicationId/documents/:documentId/back', checkType, raw, upload('back'));

  const download = (side: 'front' | 'back') => route(async (req, res) => {
    const { applicationId, documentId } = ids(req);
    const doc = await getDocument(deps.db, req.orgId, applicationId, documentId);
    if (!doc) throw notFound('document', documentId);
    const file = await getDocumentFile(deps.db, req.orgId, applicationId, documentId, side);
    if (!file) throw new ApiError(404, 'Not Found', `no ${side === 'back' ? 'back side' : 'file'} was uploaded for document ${documentId}`, { code: 'not_found' });
    res.status(200).type(file.contentType).setHeader('content-disposition', `attachment; filename="document-${documentId}${side === 'back' ? '-back' : ''}"`);
    res.send(file.bytes);
  });
  router.get('/applications/:applicationId/documents/:documentId/download', download('front'));
  router.get('/applications/:applicationId/documents/:documentId/download/back', download('back'));

  router.post('/applications/:applicationId/documents/:documentId/verify', route(async (req, res) => {
    const { applicationId, documentId } = ids(req);
    if (!req.body || typeof req.body !== 'object') throw new ValidationError([{ status: '400', title: 'Bad Request', detail: 'the body must be {"data": {"type": "selfieVerification", "attributes": {"jobId": …}}}', code: 'invalid_body' }]);
    const { jobId } = parseBody(VerifyDocumentRequest, req.body).data.attributes;
    const found = await getDocumentInContext(deps.db, req.orgId, applicationId, documentId);
    if (!found) throw notFound('application', applicationId);
    if (!found.document) throw notFound('document', documentId);
    const { document: doc, person } = found;
    // The job's own state first: these answers do not depend on the application.
    const job = await deps.db.selectFrom('verification_jobs').select(['status', 'used_by_document_id']).where('id', '=', jobId).where('org_id', '=', req.orgId).executeTakeFirst();
    if (!job) throw VERIFY_ERRORS.job_not_found(jobId);
    if (job.status === 'pending') throw VERIFY_ERRORS.job_not_completed(jobId);
    if (job.status === 'failed') throw VERIFY_ERRORS.job_failed(jobId);
    if (job.used_by_document_id !== null) throw VERIFY_ERRORS.job_already_used(jobId);
    if (doc.document_type !== 'SelfieVerification') throw conflict(`document ${documentId} is a ${doc.document_type}; only SelfieVerification documents are verified with a job (upload the file instead)`, 'document_not_verifiable');
    if (found.applicationStatus !== 'AwaitingDocuments') throw conflict(`application ${applicationId} is ${found.applicationStatus}; documents can be verified only while AwaitingDocuments`, 'invalid_state');
    if (!['Required', 'Invalid'].includes(doc.status)) throw conflict(`document ${documentId} is ${doc.status}; only Required or Invalid documents can be verified`, 'document_not_verifiable');
    const updateId = `verify-${documentId}-${jobId}`;
    const out = found.workflowProtocol === 2
      ? await executePersonUpdate(deps, applicationId, person.id, verifyDocumentUpdate, [{ documentId, jobId }], updateId)
      : await executeApplicationUpdate(deps, applicationId, verifyDocumentUpdate, [{ documentId, jobId }], updateId);
    if (!out.ok) throw VERIFY_ERRORS[out.error](jobId);
    const fresh = await getDocument(deps.db, req.orgId, applicationId, documentId);
    sendDocument(res, 200, { data: serializeDocument(fresh!, person) });
  }));

  return router;
}
