/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of the routes the API serves. Run it after
 * changing a route or a schema it uses; test/api/openapi.test.ts fails while the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { documentedRoutes } from '../functions/api/documented-routes.ts';
import { openApiDocument, serializeOpenApi } from '../functions/api/openapi.ts';

const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

writeFileSync(OPENAPI_FILE, serializeOpenApi(openApiDocument(documentedRoutes())));
console.log(`wrote ${OPENAPI_FILE}`);
