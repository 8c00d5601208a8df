import { z } from 'zod';
import type { OpenApiDocument } from '../../src/http/openapi/document.js';

/**
 * Checks real answers against the OpenAPI document: the status must be documented for the operation
 * the request reached, the content type must be one of that answer's media types, the body must
 * validate against its JSON Schema (compiled with zod's `z.fromJSONSchema`, from the document alone,
 * not from the contract), and the API's headers must be the documented ones. Any drift between the
 * document and the engine throws.
 */

type Json = Record<string, unknown>;
interface Media {
  schema?: unknown;
}
interface HeaderSpec {
  required?: boolean;
  schema?: unknown;
}
interface ResponseSpec {
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, Media>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseSpec>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const componentsRef = /^#\/components\/schemas\//;

/** `#/components/schemas/X` becomes `#/$defs/X`, where `z.fromJSONSchema` looks for local definitions. */
function toDefsRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDefsRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace(componentsRef, '#/$defs/') : toDefsRefs(v)]),
  );
}

export interface Checked {
  operationId: string;
  status: number;
  /** the problem code, for problem answers */
  code?: string;
  body: unknown;
}

export class DocumentedApi {
  private readonly defs: unknown;
  private readonly compiled = new WeakMap<object, z.ZodType>();
  private readonly routes: { method: string; pattern: RegExp; templated: boolean; operation: Operation }[] = [];
  /** every response header the document names, lower-cased: these must not appear undocumented */
  private readonly apiHeaders = new Set<string>();
  /** what check() has seen, for coverage assertions */
  readonly seen: Checked[] = [];

  constructor(readonly document: OpenApiDocument) {
    this.defs = toDefsRefs(document.components?.schemas ?? {});
    for (const [template, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, Operation | undefined>)[method];
        if (!operation) continue;
        const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        this.routes.push({ method: method.toUpperCase(), pattern, templated: template.includes('{'), operation });
        for (const r of Object.values(operation.responses)) for (const h of Object.keys(r.headers ?? {})) this.apiHeaders.add(h.toLowerCase());
      }
    }
    // concrete paths before templated ones, as a router would match them
    this.routes.sort((a, b) => Number(a.templated) - Number(b.templated));
  }

  /** The documented operation a request reaches, or undefined (the document's NoRoute or MethodNotAllowed answer). */
  operation(method: string, path: string): Operation | undefined {
    const pathname = new URL(path, 'http://x').pathname;
    return this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(pathname))?.operation;
  }

  /** Validates one answer; returns its parsed body. The response's body is consumed. */
  async check(method: string, path: string, res: Response): Promise<Checked> {
    const operation = this.operation(method, path);
    const where = `${method} ${path} → ${res.status}`;
    const spec = operation ? operation.responses[String(res.status)] : this.noRoute(res.status);
    if (!spec) throw new Error(`${where}: status not documented for ${operation?.operationId ?? 'an unknown route'}`);

    const headers = spec.headers ?? {};
    const documented = new Map(Object.entries(headers).map(([name, h]) => [name.toLowerCase(), h]));
    for (const [name, h] of documented) {
      const value = res.headers.get(name);
      if (value === null) {
        if (h.required) throw new Error(`${where}: documented header ${name} is missing`);
        continue;
      }
      this.validate(h.schema ?? {}, value, `${where}: header ${name}`);
    }
    for (const name of this.apiHeaders) {
      if (res.headers.has(name) && !documented.has(name)) throw new Error(`${where}: header ${name} is not documented for this answer`);
    }

    const text = await res.text();
    const contentType = res.headers.get('content-type');
    if (!spec.content) {
      if (text !== '') throw new Error(`${where}: a body where the document has none`);
      return this.record(operation, res.status, undefined);
    }
    const essence = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    const media = spec.content[essence];
    if (!media) throw new Error(`${where}: content-type ${contentType} is not one of ${Object.keys(spec.content).join(', ')}`);
    const body: unknown = /^application\/([a-z.+-]+\+)?json$/.test(essence) ? JSON.parse(text) : text;
    this.validate(media.schema ?? {}, body, `${where}: body`);
    return this.record(operation, res.status, body);
  }

  private record(operation: Operation | undefined, status: number, body: unknown): Checked {
    const code = body !== null && typeof body === 'object' && 'code' in body ? String((body as Json).code) : undefined;
    const checked: Checked = { operationId: operation?.operationId ?? 'NoRoute', status, body, ...(code ? { code } : {}) };
    this.seen.push(checked);
    return checked;
  }

  /** The document's answer for a request no operation takes: NoRoute (404) or MethodNotAllowed (405). */
  private noRoute(status: number): ResponseSpec | undefined {
    const name = ({ 404: 'NoRoute', 405: 'MethodNotAllowed' } as Record<number, string>)[status];
    return name ? (this.document.components?.responses?.[name] as ResponseSpec | undefined) : undefined;
  }

  private validate(schema: unknown, value: unknown, what: string): void {
    const parsed = this.schema(schema).safeParse(value);
    if (!parsed.success) throw new Error(`${what} does not match the document:\n${z.prettifyError(parsed.error)}\n${JSON.stringify(value)}`);
  }

  private schema(schema: unknown): z.ZodType {
    const key = schema as object;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      const root = { $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: this.defs, ...(toDefsRefs(schema) as Json) };
      compiled = z.fromJSONSchema(root as Parameters<typeof z.fromJSONSchema>[0], { registry: z.registry() });
      this.compiled.set(key, compiled);
    }
    return compiled;
  }
}
