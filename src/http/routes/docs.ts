import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { AppError } from '../../errors.js';

/** Swagger UI's files come from the installed package: the page needs no network beyond the engine. */
const swaggerUiDir = () => path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Flash-sale engine API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/start.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io
const START = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

interface Asset {
  type: string;
  read(): string;
}

const ASSETS: Record<string, Asset> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', read: () => readFileSync(path.join(swaggerUiDir(), 'swagger-ui.css'), 'utf8') },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', read: () => readFileSync(path.join(swaggerUiDir(), 'swagger-ui-bundle.js'), 'utf8') },
  'start.js': { type: 'text/javascript; charset=utf-8', read: () => START },
};

/** The names under /docs/ (the document lists them). */
export const DOCS_ASSETS = Object.keys(ASSETS) as [string, ...string[]];

/** The document's module, with the generator library, is loaded when first asked for, not at start. */
async function documentJson(): Promise<string> {
  const { openApiDocument } = await import('../openapi/document.js');
  return JSON.stringify(openApiDocument());
}

/**
 * `GET /openapi.json`, the API's OpenAPI 3.1 document, and `GET /docs`, a page to read and try it that
 * works offline. Both are built on first request and kept: nothing here runs before someone asks.
 */
export function docsRoutes(): Hono {
  let document: Promise<string> | undefined;
  const assets = new Map<string, string>();
  return new Hono()
    .get('/openapi.json', async (c) => c.body(await (document ??= documentJson()), 200, { 'content-type': 'application/json' }))
    .get('/docs', (c) => c.html(PAGE))
    .get('/docs/:asset', (c) => {
      const name = c.req.param('asset');
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!asset) throw new AppError('not_found', `no docs asset ${name}`);
      let text = assets.get(name);
      if (text === undefined) assets.set(name, (text = asset.read()));
      return c.body(text, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
    });
}
