// Every workflow the worker runs. Workflow code imports activity *types* only.
export * from '../webhooks/workflows/emitEvent';
export * from '../webhooks/workflows/webhookDelivery';
export * from '../verification/job/workflow';
export * from '../applications/workflows/application';
export * from '../applications/workflows/person';
export * from '../retention/workflow';
