import { readFileSync } from 'node:fs';
import { OpenAPIHono } from '@hono/zod-openapi';
import { OPERATIONS } from './operations.js';

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

const DESCRIPTION = `
Stock holds for limited drops, orders made from them, payment providers' webhooks applied exactly once;
waiting rooms and raffles where demand dwarfs stock.

**Errors** are \`application/problem+json\` (RFC 9457) with a stable \`code\`; each answer below lists the codes
it can carry. A path the API does not have answers 404 \`not_found\` (the \`NoRoute\` response), a path it
has asked with another method 405 \`method_not_allowed\` with \`Allow\` (the \`MethodNotAllowed\` response);
a request Node cannot parse, 400 \`invalid_request\`. 5xx problems carry the request id in \`instance\`:
send \`X-Request-Id\` (1-128 of \`A-Za-z0-9._:-\`) to choose it.

**Customers** send \`Authorization: Bearer <JWT>\` (\`sub\` = the customer, \`exp\` required), signed with
HS256 and JWT_SECRET or by an identity provider (JWT_JWKS_URL / JWT_PUBLIC_KEY, JWT_ALGORITHMS). Each
customer has a request allowance (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST per API process): beyond it
429 \`rate_limited\` with \`Retry-After\`. **Operators** send \`Authorization: Bearer <ADMIN_TOKEN>\`.
`.trim();

type SecurityScheme = Parameters<OpenAPIHono['openAPIRegistry']['registerComponent']>[2];

/** How callers prove who they are; the operations name them (an Adyen item signs itself, in its body). */
const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  customerToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A customer\'s token: `sub` is the customer id, `exp` is required.',
  },
  adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN. A customer\'s token answers 403 `forbidden`.' },
  paymentSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'Payment-Signature',
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; several `v1` allowed; at most 300 s from now.',
  },
  stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature', description: 'Stripe\'s signature, the same scheme as Payment-Signature.' },
};

function packageVersion(): string {
  // the same three levels up from src/http/openapi and from dist/http/openapi
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The OpenAPI 3.1 document of the API, generated from the contract's zod schemas by @hono/zod-openapi. */
export function openApiDocument(): OpenApiDocument {
  // the library's registry and generator only: the routes themselves stay plain Hono handlers. Nothing
  // here calls the `.openapi()` the library adds to zod: schemas made before it was loaded lack it;
  // the generator reads the `.meta({ id })` every contract schema has.
  const api = new OpenAPIHono();
  const registry = api.openAPIRegistry;
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) registry.registerComponent('securitySchemes', name, scheme);
  registry.registerComponent('responses', 'NoRoute', {
    description: '`not_found`: No such route (any path not listed here)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  registry.registerComponent('responses', 'MethodNotAllowed', {
    description: '`method_not_allowed`: a path listed here, asked with a method not listed for it',
    headers: { Allow: { description: 'the methods the path takes', required: true, schema: { type: 'string' } } },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  for (const operation of OPERATIONS) registry.registerPath(operation);
  return api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Flash-sale engine', version: packageVersion(), description: DESCRIPTION },
    tags: [
      { name: 'products', description: 'What customers see of a product' },
      { name: 'fair drops', description: 'Waiting rooms and raffles: who may hold when demand dwarfs stock' },
      { name: 'holds', description: 'Short reservations of stock; the drop\'s hot path' },
      { name: 'orders', description: 'Holds turned into orders, waiting for their payment' },
      { name: 'webhooks', description: 'Payment providers calling back' },
      { name: 'admin', description: 'Operators: products, holds, reconciliation' },
      { name: 'outbound events', description: 'Where the engine tells the rest of the business about orders, signed per Standard Webhooks' },
      { name: 'operations', description: 'Health, metrics and this document' },
    ],
  });
}
