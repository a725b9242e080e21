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
  applicationRedactedAt,
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
import { FILE_TYPES, isFileType } from '../../platform/http/fileSignature';
import { checkFileContent, checkFileSignature } from '../../platform/http/uploadContent';
import { serializeDocument } from './serialize';
import { answeredInHttp } from './workflowRequests';
import { refusedAsRedacted } from './redaction';

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
      const agg = await getAggregate(deps.db, deps.config.keyRing, req.orgId, String(req.params.applicationId));
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
      if (!isUploadType(ct)) throw unsupported(`Content-Type must be one of ${UPLOAD_TYPES.join(', ')} (got ${ct || 'none'})`);
      checkFileSignature(bytes, ct);
      const agg = await getAggregate(deps.db, deps.config.keyRing, req.orgId, applicationId);
      if (!agg) throw notFound('application', applicationId);
      if (agg.application.redacted_at) throw refusedAsRedacted(applicationId);
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
      // Decoded last, once the upload is otherwise acceptable: a full decode is the costly check.
      await checkFileContent(bytes, ct);
      const stored = await storeUpload(deps.db, deps.config.keyRing, req.orgId, applicationId, documentId, side, ct, bytes);
      if (!stored) throw conflict(`document ${documentId} accepts no more files`, 'invalid_state');
      try {
        // The person the document belongs to takes it.
        await deps.temporal.workflow
          // The stored id, not the path's (which may say 001 for 1): workflow ids are made from it.
          .getHandle(personWorkflowId(String(agg.application.id), String(doc.person_id)))
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
      const file = await getDocumentFile(deps.db, deps.config.keyRing, req.orgId, applicationId, documentId, side);
      if (!file && (await applicationRedactedAt(deps.db, req.orgId, applicationId)))
        throw new ApiError(410, 'Gone', `the files of document ${documentId} were erased when application ${applicationId} was redacted`, {
          code: 'redacted',
        });
      if (!file)
        throw new ApiError(404, 'Not Found', `no ${side === 'back' ? 'back side' : 'file'} was uploaded for document ${documentId}`, {
          code: 'not_found',
        });
      // Always a download under a name made here, never shown inline: a reviewer's browser must
      // neither render it as a page, nor guess another type (HTML in a "JPEG"), nor keep a copy.
      const extension = isFileType(file.contentType) ? FILE_TYPES[file.contentType].extension : 'bin';
      res
        .status(200)
        .type(isFileType(file.contentType) ? file.contentType : 'application/octet-stream')
        .setHeader('content-disposition', `attachment; filename="document-${doc.id}${side === 'back' ? '-back' : ''}.${extension}"`)
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
      const found = await getDocumentInContext(deps.db, deps.config.keyRing, req.orgId, applicationId, documentId);
      if (!found) throw notFound('application', applicationId);
      if (!found.document) throw notFound('document', documentId);
      if (found.applicationRedacted) throw refusedAsRedacted(applicationId);
      const { document: doc, person } = found;
      const job = await getJob(deps.db, deps.config.keyRing, req.orgId, jobId);
      if (job?.redacted_at)
        throw conflict(`verification job ${jobId} was redacted and can no longer verify a document; start a new job`, 'redacted');
      const allowed = canVerify({
        documentId,
        jobId,
        applicationStatus: found.applicationStatus,
        job: jobFacts(job),
        document: { documentType: doc.document_type, status: doc.status },
      });
      if (!allowed.ok) throw verifyRefused(allowed.refusal, allowed.message);
      // The stored ids, not the path's (which may say 004 for 4): the person's workflow id and the document it knows.
      const [storedApplicationId, storedDocumentId] = [String(doc.application_id), String(doc.id)];
      const updateId = `verify-${storedDocumentId}-${jobId}`;
      const out = await answeredInHttp(
        executePersonUpdate(
          deps,
          storedApplicationId,
          person.id,
          verifyDocumentUpdate,
          [{ documentId: storedDocumentId, jobId }],
          updateId,
        ),
      );
      if (!out.ok) throw verifyRefused(out.error, out.message);
      const fresh = await getDocument(deps.db, req.orgId, applicationId, documentId);
      sendDocument(res, 200, { data: serializeDocument(fresh!, person) });
    }),
  );

  return router;
}
