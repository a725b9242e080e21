// The workflows' answers to the API's requests, said in HTTP: a refused update is a 409 with the
// workflow's reason, an update whose activity keeps failing a 503 (retry).
import { ApiError, conflict } from '../../platform/http/errors';
import { WorkflowRequestRefused, WorkflowUnavailable } from '../workflowClient';

export async function answeredInHttp<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof WorkflowRequestRefused) throw conflict(err.message, 'invalid_state');
    if (err instanceof WorkflowUnavailable) throw new ApiError(503, 'Service Unavailable', err.message, { code: 'unavailable' });
    throw err;
  }
}
