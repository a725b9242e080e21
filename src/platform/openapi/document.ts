import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registry } from './registry';

let cached: unknown;
export function openApiDocument() {
  cached ??= new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Onboarding engine API',
      version: '0.1.0',
      description: 'Unit-compatible applications API and in-house verification jobs.',
    },
    security: [{ bearerAuth: [] }],
  });
  return cached;
}
