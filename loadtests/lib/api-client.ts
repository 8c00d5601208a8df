import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isExpected, type Recorder } from './recorder.js';

export interface ApiResponse<T = unknown> {
  status: number;
  /** problem+json `code` of an error answer */
  code: string | undefined;
  body: T;
  headers: IncomingHttpHeaders;
  ms: number;
  /** whether the outcome was among the expected ones */
  expected: boolean;
}

export interface CallOptions {
  /** request name for the statistics; defaults to `METHOD path` */
  name?: string;
  /** Bearer token */
  token?: string;
  /** JSON body (serialized here) */
  json?: unknown;
  /** raw body, sent as is (signed webhooks: the signature covers these exact bytes) */
  raw?: string;
  headers?: Record<string, string>;
  /** outcome keys or bare statuses this step expects, e.g. `['201', '409 insufficient_stock']` */
  expect: readonly string[];
  /** labels a success in the statistics (e.g. a webhook's `result`), like `code` labels an error */
  label?: (body: unknown) => string | undefined;
}

const TIMEOUT_MS = 15_000;

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * A thin HTTP client on node:http with a keep-alive pool (about 2.5x the throughput of fetch per CPU,
 * which matters when the runner shares the machine with the engine). With a recorder it records every
 * outcome of the load phase; setup and verification use one without a recorder.
 */
export class ApiClient {
  private readonly url: URL;
  private readonly transport: typeof http | typeof https;

  constructor(
    readonly baseUrl: string,
    private readonly recorder?: Recorder,
    private readonly agent: http.Agent = new (baseUrl.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true }),
  ) {
    this.url = new URL(baseUrl);
    this.transport = this.url.protocol === 'https:' ? https : http;
  }

  /** The same client (and connection pool) without recording (setup, verification). */
  unrecorded(): ApiClient {
    return new ApiClient(this.baseUrl, undefined, this.agent);
  }

  /** Closes idle connections. */
  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port, path, method, headers, agent: this.agent, timeout: TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async call<T = unknown>(method: string, path: string, opts: CallOptions): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const started = performance.now();
    let status = 0;
    let parsed: unknown = null;
    let resHeaders: IncomingHttpHeaders = {};
    let detail: string | undefined;
    try {
      const res = await this.send(method, path, headers, body);
      status = res.status;
      resHeaders = res.headers;
      detail = res.text;
      parsed = res.text.length > 0 && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(res.text) : res.text;
    } catch (err) {
      detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const ms = performance.now() - started;
    const code = typeof parsed === 'object' && parsed !== null && typeof (parsed as { code?: unknown }).code === 'string'
      ? (parsed as { code: string }).code
      : undefined;
    const expected = isExpected(opts.expect, status, code);
    const label = code ?? (status >= 200 && status < 300 ? opts.label?.(parsed) : undefined);
    this.recorder?.record({ name: opts.name ?? `${method} ${path}`, status, code: label, ms, expected, detail: expected ? undefined : detail });
    return { status, code, body: parsed as T, headers: resHeaders, ms, expected };
  }
}

/** Thrown by setup and verification steps when the engine answers something they cannot work with. */
export class StepError extends Error {
  override name = 'StepError';
  constructor(step: string, res: ApiResponse) {
    super(`${step}: HTTP ${res.status || 'network error'} ${res.code ?? ''} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`.trim());
  }
}
