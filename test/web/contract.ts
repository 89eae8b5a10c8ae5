/**
 * The API contract, checked on every answer the web tests receive (TestClient calls checkAnswer): the status is one
 * the OpenAPI document gives for that operation, the media type is the documented one, and a JSON body validates
 * against the documented schema (openapi-response-validator, an independent OpenAPI 3.0 validator). So the document
 * served at /api/openapi.json cannot drift from what the routes do.
 */
import * as responseValidatorModule from 'openapi-response-validator';
import type { IOpenAPIResponseValidator, OpenAPIResponseValidatorArgs } from 'openapi-response-validator';
import type { OpenAPIV3 } from 'openapi-types';
import { openapi } from '../../src/web/openapi.js';

/** The CommonJS package's class, whether the loader hands it over as the default export or inside it. */
export function cjsDefault<T>(m: unknown): T {
  const d = (m as { default?: unknown }).default;
  return ((d as { default?: unknown } | undefined)?.default ?? d ?? m) as T;
}
type ResponseValidator = IOpenAPIResponseValidator;
const OpenAPIResponseValidator = cjsDefault<new (args: OpenAPIResponseValidatorArgs) => ResponseValidator>(responseValidatorModule);

type Doc = OpenAPIV3.Document;
const doc = openapi as unknown as Doc;

interface Documented {
  method: string;
  re: RegExp;
  path: string;
  op: OpenAPIV3.OperationObject;
  validator: ResponseValidator;
}

const documented: Documented[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item as Record<string, OpenAPIV3.OperationObject>).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    re: new RegExp(`^${path.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
    op,
    validator: new OpenAPIResponseValidator({
      components: doc.components,
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, r]) => [
          status,
          { schema: ((r as OpenAPIV3.ResponseObject).content?.['application/json']?.schema ?? {}) as OpenAPIV3.SchemaObject },
        ]),
      ),
    }),
  })),
);

const errorValidator = new OpenAPIResponseValidator({
  components: doc.components,
  responses: { default: { schema: { $ref: '#/components/schemas/Error' } as unknown as OpenAPIV3.SchemaObject } },
});

/** Answers checked so far, by "METHOD path" (the contract test reads it to see which operations were exercised). */
export const exercised = new Set<string>();

/** Throws with the reason when `res` (to `method` `url`) is not what the document says. */
export async function checkAnswer(method: string, url: string, res: Response): Promise<void> {
  const path = new URL(url).pathname;
  if (!path.startsWith('/api/')) return;
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const where = `${method} ${path} → ${res.status}`;
  const found = documented.find((d) => d.method === (method === 'HEAD' ? 'GET' : method) && d.re.test(path));
  if (res.status >= 400) {
    if (type !== 'application/json') throw new Error(`${where}: an error answered ${type || 'no content type'}, not application/json`);
    const bad = errorValidator.validateResponse('default', await res.clone().json());
    if (bad) throw new Error(`${where}: the error body does not match the document's Error: ${JSON.stringify(bad.errors)}`);
    if (found && !found.op.responses[String(res.status)]) throw new Error(`${where}: the document does not list ${res.status} for this operation`);
    return;
  }
  if (!found) throw new Error(`${where}: the route answered ${res.status} but the OpenAPI document does not describe it`);
  exercised.add(`${found.method} ${found.path}`);
  const answer = found.op.responses[String(res.status)] as OpenAPIV3.ResponseObject | undefined;
  if (!answer) throw new Error(`${where}: the document gives ${Object.keys(found.op.responses).filter((s) => Number(s) < 400)} for this operation`);
  const documentedTypes = Object.keys(answer.content ?? {});
  if (!documentedTypes.includes(type)) throw new Error(`${where}: answered ${type}, the document says ${documentedTypes.join(' or ')}`);
  if (type !== 'application/json' || method === 'HEAD') return;
  const bad = found.validator.validateResponse(String(res.status), await res.clone().json());
  if (bad) throw new Error(`${where}: the body does not match the document: ${JSON.stringify(bad.errors)}`);
}
