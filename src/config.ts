import { createPublicKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { IDEMPOTENCY_BUCKET_MS } from './redis/keys.js';
import { ASYMMETRIC_ALGORITHMS, SYMMETRIC_ALGORITHMS, isAsymmetric, keyFits } from './http/jwt-algorithms.js';

/** Secrets that make a development setup work out of the box; production refuses them. */
export const DEV_SECRETS = {
  JWT_SECRET: 'dev-jwt-secret-change-me',
  ADMIN_TOKEN: 'dev-admin-token-change-me',
  WEBHOOK_SECRET: 'dev-webhook-secret-change-me',
} as const;

const positiveInt = z.coerce.number().int().positive();

/** The entries of a comma-separated setting (`a` or `a,b,...`), trimmed. */
export const splitList = (value: string): string[] => value.split(',').map((s) => s.trim());

/**
 * The entries of a comma-separated setting; an empty one (a doubled or trailing comma) is an issue of the
 * setting, as it would otherwise read as "" or 0.
 */
function listEntries(value: string, ctx: z.RefinementCtx): string[] {
  const entries = splitList(value);
  if (entries.includes('')) ctx.addIssue({ code: 'custom', message: 'has an empty entry (a doubled or trailing comma?)' });
  return entries.filter((entry) => entry !== '');
}

/** One secret, or two separated by a comma while a provider rotates it (either verifies); see `splitList`. */
const secretList = (part: z.ZodString) =>
  z.string().superRefine((value, ctx) => {
    const parts = listEntries(value, ctx);
    if (parts.length > 2) ctx.addIssue({ code: 'custom', message: 'at most two secrets (the old and the new one during rotation)' });
    for (const p of parts) {
      const checked = part.safeParse(p);
      if (!checked.success) ctx.addIssue({ code: 'custom', message: checked.error.issues[0]!.message });
    }
  });

/** `true` / `false`; unset means "live only in production". */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true').optional();

const algorithmList = z
  .string()
  .transform(listEntries)
  .pipe(z.array(z.enum([...SYMMETRIC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS], `must be ${[...SYMMETRIC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS].join(', ')}, comma-separated`)).min(1));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** API processes sharing PORT (roles `api` and `all`); unset: one per core in production, else 1. */
  API_PROCESSES: positiveInt.max(256).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^,\s]+(\s*,\s*rediss?:\/\/[^,\s]+)*$/, 'must be a redis:// URL, or several (a cluster) separated by commas')
    .default('redis://127.0.0.1:6379'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/flashsale'),
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, _ . - only (1-32 chars)')
    .default('fs'),
  HOLD_TTL_MS: positiveInt.max(24 * 3600_000).default(120_000),
  PAYMENT_TTL_MS: positiveInt.max(7 * 24 * 3600_000).default(900_000),
  /** How often the safety-net sweep looks for overdue holds and orders. */
  SWEEP_INTERVAL_MS: positiveInt.default(5_000),
  SWEEP_PRODUCTS: positiveInt.default(500),
  /** How long ended holds and orders stay readable in Redis before they are dropped. */
  RECORD_RETENTION_MS: positiveInt.default(48 * 3600_000),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default(DEV_SECRETS.JWT_SECRET),
  /** The only algorithms customer tokens may be signed with (HS256 uses JWT_SECRET; the others an identity provider's key). */
  JWT_ALGORITHMS: algorithmList.default(['HS256']),
  /** The identity provider's JSON Web Key Set (e.g. https://idp.example.com/.well-known/jwks.json). */
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The identity provider's public key as PEM (SPKI, `-----BEGIN PUBLIC KEY-----`); `\n` escapes allowed. */
  JWT_PUBLIC_KEY: z.string().transform((v) => v.replace(/\\n/g, '\n')).optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  /** How long a fetched key set is trusted before it is fetched again (also bounds how long a removed key keeps working). */
  JWT_JWKS_MAX_AGE_S: positiveInt.max(24 * 3600).default(600),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    // (a Bearer token arrives without the spaces around it: no request could match)
    .refine((v) => v === v.trim(), 'must not begin or end with a space')
    .default(DEV_SECRETS.ADMIN_TOKEN),
  /** The generic provider's secret (`POST /api/webhooks/generic`, alias `/payment`). */
  WEBHOOK_SECRET: secretList(z.string().min(16, 'must be at least 16 characters')).default(DEV_SECRETS.WEBHOOK_SECRET),
  /** Stripe's endpoint signing secret(s) (`whsec_…`); unset: `/api/webhooks/stripe` does not exist. */
  STRIPE_WEBHOOK_SECRET: secretList(z.string().min(16, 'each secret must be at least 16 characters')).optional(),
  STRIPE_LIVEMODE: flag,
  /** Adyen's HMAC key(s), hex as the Customer Area shows them; unset: `/api/webhooks/adyen` does not exist. */
  ADYEN_WEBHOOK_SECRET: secretList(z.string().regex(/^([0-9a-fA-F]{2}){16,}$/, 'each key must be hex (the HMAC key of the Customer Area)')).optional(),
  ADYEN_LIVEMODE: flag,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Requests per second per customer on the customer API (per API process; 0 = no limit). */
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(20),
  /** Requests a customer may send at once before the rate applies. */
  RATE_LIMIT_BURST: positiveInt.default(40),
  /** How long a worker's job lock lasts; a killed worker's job is retried by another after about this long. */
  JOB_LOCK_MS: positiveInt.min(1000).default(30_000),
  /** Redis command timeout: a request fails with 503 after this, never hangs. */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(1_000),
  /**
   * What an acknowledged write survives on the Redis side (README "Durability"): `fsync` checks that
   * every master runs `appendonly yes` + `appendfsync always` and refuses otherwise; `fsync-unverified`
   * is the operator's word for it where CONFIG is unavailable (managed Redis); `relaxed` checks nothing.
   * Unset: `fsync` in production, `relaxed` elsewhere.
   */
  REDIS_DURABILITY: z.enum(['fsync', 'fsync-unverified', 'relaxed']).optional(),
  /** Replicas that must have each request's writes before it is answered (WAIT / WAITAOF); 0 = none. */
  REDIS_REPLICA_ACKS: z.coerce.number().int().min(0).max(16).default(0),
  /** How long a request waits for those replicas before answering 503 `replication_unconfirmed`. */
  REDIS_REPLICA_ACK_TIMEOUT_MS: positiveInt.default(500),
  /**
   * Outbound events: the wait before each delivery attempt (ms, comma-separated): the first after the
   * event, each next one after a failed attempt; when the list runs out the delivery has failed.
   * The default is Svix's schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 28 hours).
   */
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .transform(listEntries)
    .pipe(z.array(z.coerce.number<string>().int('each delay must be a whole number of ms').min(0).max(7 * 24 * 3600_000)).min(1).max(50))
    .default([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]),
  /** How long a receiver may take to answer one delivery attempt before it counts as failed. */
  WEBHOOK_TIMEOUT_MS: positiveInt.max(30_000).default(15_000),
  /**
   * How long a client may take to send a request's headers. A real client sends them in one packet;
   * 10 s covers a slow mobile link, and bounds how long a client trickling header bytes (slowloris)
   * holds a connection. A connection that never sends anything is closed after this too.
   */
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  /**
   * How long a client may take to send a whole request, headers and body (bodies here are a few hundred
   * bytes). It ends when the request has arrived: the answer, such as the dashboard's endless event
   * stream, may take as long as it takes.
   */
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * How long an idle keep-alive connection stays open for the client's next request (Node's default).
   * Behind a load balancer that reuses connections, set it above the balancer's idle timeout, or the
   * balancer may send a request on a connection the engine is closing.
   */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  /**
   * Open connections the API accepts at once; past it new ones are closed at once. Each costs a few KB
   * and a file descriptor: 10,000 is far more than a sale's real clients keep open (they come and go)
   * and well below the usual 65,536 descriptor limit, so a flood cannot exhaust the process.
   */
  HTTP_MAX_CONNECTIONS: positiveInt.default(10_000),
  /**
   * The longest a SIGTERM's shutdown takes, even with Redis or Postgres gone (src/shutdown.ts shares it
   * out). 25 s ends before Kubernetes' default 30 s grace period does, after which it sends SIGKILL.
   */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
});

type Parsed = z.infer<typeof schema>;

function parsePublicKey(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.type === 'public' ? key : null;
  } catch {
    return null;
  }
}

/** Where customer tokens' keys come from must agree with the algorithms, or the engine would accept nothing (or too much). */
function checkTokenKeys(c: Parsed, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const asymmetric = c.JWT_ALGORITHMS.filter(isAsymmetric);
  const keySource = c.JWT_JWKS_URL ?? c.JWT_PUBLIC_KEY;
  if (asymmetric.length > 0 && asymmetric.length < c.JWT_ALGORITHMS.length) {
    issue('JWT_ALGORITHMS', 'HS256 cannot be mixed with public-key algorithms (a public key must never be usable as an HMAC secret)');
  } else if (asymmetric.length > 0 && keySource === undefined) {
    issue('JWT_ALGORITHMS', `${asymmetric.join(', ')} needs JWT_JWKS_URL or JWT_PUBLIC_KEY`);
  } else if (asymmetric.length === 0 && keySource !== undefined) {
    issue('JWT_ALGORITHMS', 'JWT_JWKS_URL / JWT_PUBLIC_KEY need a public-key algorithm (RS256, ES256, EdDSA, ...)');
  }
  if (c.JWT_JWKS_URL !== undefined && c.JWT_PUBLIC_KEY !== undefined) issue('JWT_PUBLIC_KEY', 'set JWT_JWKS_URL or JWT_PUBLIC_KEY, not both');
  if (c.JWT_PUBLIC_KEY !== undefined) {
    const key = parsePublicKey(c.JWT_PUBLIC_KEY);
    if (!key) issue('JWT_PUBLIC_KEY', 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
    else if (!asymmetric.some((alg) => keyFits(alg, key))) issue('JWT_PUBLIC_KEY', `a ${key.asymmetricKeyType} key cannot verify ${c.JWT_ALGORITHMS.join(', ')}`);
  }
  if (c.JWT_JWKS_URL !== undefined && c.NODE_ENV === 'production' && !/^https:|^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(c.JWT_JWKS_URL)) {
    issue('JWT_JWKS_URL', 'must be https in production (keys fetched in the clear could be swapped)');
  }
}

const refined = schema
  .refine((c) => c.RECORD_RETENTION_MS >= Math.max(c.HOLD_TTL_MS, c.PAYMENT_TTL_MS), {
    message: 'must be at least HOLD_TTL_MS and PAYMENT_TTL_MS (records must outlive the holds and orders they describe)',
    path: ['RECORD_RETENTION_MS'],
  })
  // an Idempotency-Key is kept 24-48 h (a day's bucket); its replay answers from the hold's record, so in
  // production that record must last as long, or a retry within the promised 24 h would get a 404
  .refine((c) => c.NODE_ENV !== 'production' || c.RECORD_RETENTION_MS >= 2 * IDEMPOTENCY_BUCKET_MS, {
    message: `must be at least ${2 * IDEMPOTENCY_BUCKET_MS} in production (as long as an Idempotency-Key is kept, so that its replay finds its hold)`,
    path: ['RECORD_RETENTION_MS'],
  })
  // Node refuses a headers timeout longer than the request timeout: the headers are part of the request
  .refine((c) => c.HTTP_HEADERS_TIMEOUT_MS <= c.HTTP_REQUEST_TIMEOUT_MS, {
    message: 'must be at most HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
  })
  .refine((c) => c.REDIS_REPLICA_ACKS === 0 || c.REDIS_REPLICA_ACK_TIMEOUT_MS < c.REDIS_COMMAND_TIMEOUT_MS, {
    message: 'must be below REDIS_COMMAND_TIMEOUT_MS (the wait for replicas is a Redis command)',
    path: ['REDIS_REPLICA_ACK_TIMEOUT_MS'],
  })
  .superRefine(checkTokenKeys)
  // production serves from every core and acts on live payments only; development runs one process and acts on test payments only
  .transform((c) => ({
    ...c,
    API_PROCESSES: c.API_PROCESSES ?? (c.NODE_ENV === 'production' ? availableParallelism() : 1),
    STRIPE_LIVEMODE: c.STRIPE_LIVEMODE ?? c.NODE_ENV === 'production',
    ADYEN_LIVEMODE: c.ADYEN_LIVEMODE ?? c.NODE_ENV === 'production',
    REDIS_DURABILITY: c.REDIS_DURABILITY ?? (c.NODE_ENV === 'production' ? 'fsync' : 'relaxed'),
  }));

export type Config = z.output<typeof refined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // an empty or blank value is unset (a template that left it blank meant no value), never "" or 0
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = refined.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  const devSecrets = devSecretsInUse(config);
  if (config.NODE_ENV === 'production' && devSecrets.length > 0) {
    throw new ConfigError(`invalid configuration: ${devSecrets.join(', ')} must be set in production, without the development default (it is public)`);
  }
  return config;
}

/**
 * Each secret setting as its verifier uses it: the webhook secret is split as `splitList` splits it
 * (paymentProviders; either part verifies), the JWT secret and the admin token are used as written.
 */
const SECRETS_AS_USED: Record<keyof typeof DEV_SECRETS, (value: string) => string[]> = {
  JWT_SECRET: (value) => [value],
  ADMIN_TOKEN: (value) => [value],
  WEBHOOK_SECRET: splitList,
};

/**
 * Names of the secrets that still accept their development default, alone or beside another one (JWT_SECRET
 * only while HS256 tokens are accepted).
 */
export function devSecretsInUse(config: Config): string[] {
  const hs256 = config.JWT_ALGORITHMS.includes('HS256');
  return (Object.keys(DEV_SECRETS) as (keyof typeof DEV_SECRETS)[]).filter(
    (k) => SECRETS_AS_USED[k](config[k]).includes(DEV_SECRETS[k]) && (k !== 'JWT_SECRET' || hs256),
  );
}
