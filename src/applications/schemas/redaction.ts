// OpenAPI of POST /applications/:id/redact (routes/redaction.ts). The request has no body.
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';
import { ApplicationIdParams, ApplicationResponse } from './applications';

registry.registerPath({
  method: 'post',
  path: '/applications/{applicationId}/redact',
  tags: ['Applications'],
  summary: "Erase the applicant's personal data (irreversible)",
  description:
    'Stripe Identity `redact` semantics: the application stays readable with its ids, status, decision, reason codes and timestamps; ' +
    'names, address, email, phone, identification, dates of birth, device data, document files and the images and document fields ' +
    'of its verification jobs are erased ("[redacted]" where a value is shown), tags erased, and `redaction: {status, redactedAt}` is added. ' +
    'An open application is canceled first (reason "redacted on request"). Redacting again answers the same. Records the event ' +
    '`application.redacted`. Afterwards every change (cancel, review, uploads, verify) is a 409 with code `redacted`, downloads a 410.',
  request: { params: ApplicationIdParams },
  responses: {
    200: { description: 'The redacted application', content: { [JSON_API]: { schema: ApplicationResponse } } },
    404: { description: 'JSON:API errors: no such application in this org' },
    409: { description: 'JSON:API errors: the application could not be canceled' },
  },
});
