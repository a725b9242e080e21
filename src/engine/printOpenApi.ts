import './httpApi';
import { openApiDocument } from '../platform/openapi/document';
process.stdout.write(JSON.stringify(openApiDocument(), null, 2) + '\n');
