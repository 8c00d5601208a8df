import { header } from './header.js';
import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError, invalidRequest } from '../errors.js';

export const MAX_BODY_BYTES = 16 * 1024;

/** Raw body of a JSON request: 415 unless application/json (size is capped by the bodyLimit middleware). */
export async function readRawJson(c: Context): Promise<string> {
  const type = header(c, 'content-type');
  if (type !== 'application/json' && !(type && /^application\/json\s*(;|$)/i.test(type))) {
    throw new AppError('unsupported_media_type', 'send the body as application/json');
  }
  return c.req.text();
}

/** Parses and validates a JSON body against a schema: 415, 400 invalid_json or 400 invalid_request. */
export function parseJson<S extends z.ZodType>(raw: string, schema: S): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw new AppError('invalid_json', 'the body is not valid JSON');
  }
  return validated(data, schema);
}

/** Input checked against a schema: a query, a parsed body, a provider's payload (400 invalid_request otherwise). */
export function validated<S extends z.ZodType>(data: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw invalidRequest(parsed.error.issues);
  return parsed.data;
}

/** Validates the query string against a schema: 400 invalid_request. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return validated(c.req.query(), schema);
}

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseJson(await readRawJson(c), schema);
}
