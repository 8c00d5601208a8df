import { z } from 'zod';

/**
 * The JSON body of an answer, parsed with the contract's schema rather than cast: every test that reads
 * a body also checks that it has the contract's shape. Fails with the issues and the body itself.
 */
export async function body<S extends z.ZodType>(res: Response | Promise<Response>, schema: S): Promise<z.infer<S>> {
  return (await answer(res, schema)).body;
}

/** Status and parsed body together, for checks on both. */
export async function answer<S extends z.ZodType>(res: Response | Promise<Response>, schema: S): Promise<{ status: number; body: z.infer<S> }> {
  const r = await res;
  const json: unknown = await r.json();
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`a ${r.status} answer does not match the contract:\n${z.prettifyError(parsed.error)}\n${JSON.stringify(json)}`);
  }
  return { status: r.status, body: parsed.data };
}
