// Every workflow the worker runs. Workflow code imports activity *types* only.
export * from './events';
export * from './webhookDelivery';
export * from './verificationJob';
export * from './application';
export * from './person';
