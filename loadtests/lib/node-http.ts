import http from 'node:http';
import https from 'node:https';
import { REQUEST_TIMEOUT_MS } from '../steps/api.js';
import type { Http, HttpResponse } from '../steps/types.js';

/**
 * The steps' HTTP adapter on node:http with a keep-alive pool: cheaper per request than fetch, which
 * matters when the runner shares the machine with the engine.
 */
export function nodeHttp(baseUrl: string): { http: Http; close(): void } {
  const url = new URL(baseUrl);
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true });

  type Answer = { status: number; headers: http.IncomingHttpHeaders; text: string };
  const send = (method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> =>
    new Promise<Answer>((resolve, reject) => {
      const req = transport.request(
        { protocol: url.protocol, hostname: url.hostname, port: url.port, path, method, headers, agent, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // a kept-alive connection the server closed as the request went out: a reading request is sent
        // again on a new one, as browsers do (node:http's own advice, see request.reusedSocket)
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && (method === 'GET' || method === 'HEAD')) {
          resolve(send(method, path, headers, body));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });

  const request: Http = async (req) => {
    const u = new URL(req.url);
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) };
    const started = performance.now();
    try {
      const res = await send(req.method, `${u.pathname}${u.search}`, headers, req.body);
      const flat: HttpResponse['headers'] = {};
      for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.status, headers: flat, body: res.text, ms: performance.now() - started };
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return { status: 0, headers: {}, body: '', ms: performance.now() - started, error };
    }
  };

  return { http: request, close: () => agent.destroy() };
}
