import type { RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { Problem } from '../../contract.js';
import { notAdmitted } from '../../engine/refusals.js';
import { AppError, type ErrorCode } from '../../errors.js';

type ResponseConfig = Exclude<RouteConfig['responses'][string], { $ref: string }>;

const seconds = z.string().regex(/^\d+$/);

/** Headers that travel with the problems of a status (problem.ts, rate-limit.ts, limit-body.ts). */
const HEADERS: Partial<Record<number, ResponseConfig['headers']>> = {
  413: z.object({ Connection: z.literal('close').meta({ description: 'the unread rest of the body ends the connection' }) }),
  429: z.object({ 'Retry-After': seconds.meta({ description: 'seconds until the customer\'s allowance has a request again' }) }),
  503: z.object({ 'Retry-After': seconds.meta({ description: 'seconds to wait before retrying' }) }),
};

/** Headers that travel with one code's problems (auth.ts), documented on an answer that carries that code alone. */
const CODE_HEADERS: Partial<Record<ErrorCode, ResponseConfig['headers']>> = {
  unauthorized: z.object({
    'WWW-Authenticate': z.string().meta({ description: '`Bearer`, or `Bearer error="invalid_token"` when the token sent is not a valid one' }),
  }),
};

/** Examples that show a code's extra as the engine sends it: a customer waiting in line learns their `position`. */
const EXAMPLES: Partial<Record<ErrorCode, AppError>> = { not_admitted: notAdmitted(42) };

/**
 * The error answers of an operation, one per status: each names the problem `code`s it can carry, its
 * schema narrows the contract's Problem to them, and each code has an example body built by the
 * engine's own error type, so titles and types in the document are the ones the API sends.
 */
export function problems(codes: readonly ErrorCode[]): Record<string, ResponseConfig> {
  const byStatus = new Map<number, AppError[]>();
  for (const code of codes) {
    const error = EXAMPLES[code] ?? new AppError(code);
    byStatus.set(error.status, [...(byStatus.get(error.status) ?? []), error]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, errors]) => {
      const [first, ...rest] = errors.map((e) => e.code);
      const schema = z.intersection(Problem, z.object({ status: z.literal(status), code: z.enum([first!, ...rest]) }));
      const response: ResponseConfig = {
        description: errors.map((e) => `\`${e.code}\`: ${e.title}`).join('; '),
        headers: HEADERS[status] ?? (rest.length === 0 ? CODE_HEADERS[first!] : undefined),
        content: {
          'application/problem+json': {
            schema,
            examples: Object.fromEntries(errors.map((e) => [e.code, { summary: e.title, value: e.toProblem() }])),
          },
        },
      };
      return [String(status), response];
    }),
  );
}
