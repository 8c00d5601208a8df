import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { AppError } from '../../errors.js';

/** The page's files, next to lua/ and migrations/ (the same place relative to src/ and dist/). */
const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};
/** The files `GET /admin/:file` serves (the API document lists them). */
export const DASHBOARD_FILES = Object.keys(TYPES) as [string, ...string[]];
/** Everything the page uses comes from this origin: it works offline, and nothing else can run in it. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * `GET /admin`: the live dashboard, plain HTML, CSS and JavaScript read once at start, no build step.
 * The page itself holds no data and needs no token; it asks the operator for one and sends it to
 * `/api/admin/live` in a header.
 */
export function dashboardRoutes(): Hono {
  const files = new Map(Object.entries(TYPES).map(([name, type]) => [name, { body: readFileSync(DASHBOARD_DIR + name, 'utf8'), type }]));
  const serve = (c: Context, name: string) => {
    const file = files.get(name);
    if (!file) throw new AppError('not_found', `no dashboard file ${name}`);
    return c.body(file.body, 200, { ...SECURITY_HEADERS, 'content-type': file.type });
  };
  return new Hono().get('/', (c) => serve(c, 'index.html')).get('/:file', (c) => serve(c, c.req.param('file')));
}
