// Request shapes of /applications/:id/documents/*.
import { z } from 'zod';
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';
import { DATABASE_ID } from '../../platform/database/ids';
import type { FileType } from '../../platform/http/fileSignature';
import { DocumentResource } from './applications';

/** What Unit's SDK `verifyDocument` sends: a completed verification job to evaluate. */
export const VerifyDocumentRequest = z
  .object({
    data: z
      .object({
        type: z.literal('selfieVerification'),
        attributes: z.object({ jobId: z.string().trim().min(1, 'must not be empty').max(200) }).strict(),
      })
      .strict(),
  })
  .strict();
export type VerifyDocumentRequest = z.infer<typeof VerifyDocumentRequest>;

/** Content types accepted for document uploads; the whole file must be what the type says (platform/http/uploadContent). */
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const satisfies readonly FileType[];

export const DocumentParams = z.object({ applicationId: z.string().regex(DATABASE_ID), documentId: z.string().regex(DATABASE_ID) });

// --- OpenAPI ---------------------------------------------------------------------------------

const tags = ['Application documents'];
const json = <T extends z.ZodType>(schema: T) => ({ content: { [JSON_API]: { schema } } });
const err = (description: string) => ({ description: `JSON:API errors: ${description}` });
const binary = z.string().describe('binary');
const upload = {
  required: true,
  content: { 'image/jpeg': { schema: binary }, 'image/png': { schema: binary }, 'application/pdf': { schema: binary } },
};
const uploadResponses = {
  200: {
    description: 'The document (ReceivedFront / ReceivedBack while a side is missing, PendingReview when complete)',
    ...json(z.object({ data: DocumentResource })),
  },
  400: err(
    'empty_file; invalid_file (an image that does not decode completely, a PDF without %%EOF or not well formed); active_content (a PDF with JavaScript, actions, embedded files, forms or media); encrypted_file (an encrypted PDF)',
  ),
  404: err('no such application or document'),
  409: err('the document or application does not accept uploads now'),
  413: err('larger than MAX_UPLOAD_BYTES, or an image above 50 megapixels (image_too_large)'),
  415: err('not image/jpeg, image/png or application/pdf, or the content is another format than the type says (content_mismatch)'),
};
/** Downloads are attachments under a generated name, never rendered, sniffed or cached. */
const download = {
  description: 'The file as uploaded',
  headers: z.object({
    'Content-Disposition': z.string().describe('attachment; filename="document-<id>[-back].<jpg|png|pdf>"'),
    'X-Content-Type-Options': z.literal('nosniff'),
    'Cache-Control': z.literal('no-store'),
  }),
  content: upload.content,
};
registry.registerPath({
  method: 'get',
  path: '/applications/{applicationId}/documents',
  tags,
  summary: 'List the documents of an application',
  request: { params: DocumentParams.pick({ applicationId: true }) },
  responses: { 200: { description: 'Documents', ...json(z.object({ data: z.array(DocumentResource) })) }, 404: err('no such application') },
});
registry.registerPath({
  method: 'put',
  path: '/applications/{applicationId}/documents/{documentId}',
  tags,
  summary: 'Upload a document (front side)',
  request: { params: DocumentParams, body: upload },
  responses: uploadResponses,
});
registry.registerPath({
  method: 'put',
  path: '/applications/{applicationId}/documents/{documentId}/back',
  tags,
  summary: 'Upload the back side of an IdDocument',
  request: { params: DocumentParams, body: upload },
  responses: uploadResponses,
});
registry.registerPath({
  method: 'get',
  path: '/applications/{applicationId}/documents/{documentId}/download',
  tags,
  summary: 'Download the uploaded file (front side)',
  request: { params: DocumentParams },
  responses: { 200: download, 404: err('no such document or no file uploaded') },
});
registry.registerPath({
  method: 'get',
  path: '/applications/{applicationId}/documents/{documentId}/download/back',
  tags,
  summary: 'Download the back side',
  request: { params: DocumentParams },
  responses: { 200: download, 404: err('no such document or no file uploaded') },
});
registry.registerPath({
  method: 'post',
  path: '/applications/{applicationId}/documents/{documentId}/verify',
  tags,
  summary: 'Verify a SelfieVerification document with a completed verification job',
  description:
    'The job (POST /verification-jobs) must be completed, of this org and not used before. US persons (SSN) must present a drivers-license or identification, non-US persons a passport; otherwise the document becomes Invalid (UnsupportedDocumentType) and the application returns to AwaitingDocuments.',
  request: { params: DocumentParams, body: { required: true, ...json(VerifyDocumentRequest) } },
  responses: {
    200: { description: 'The document with its resulting status', ...json(z.object({ data: DocumentResource })) },
    400: err('invalid body'),
    404: err('no such application, document or verification job'),
    409: err('job not completed or already used; document or application not awaiting verification'),
    422: err('the verification job failed'),
  },
});
