import { z } from 'zod';

/** Secrets that make a development setup work out of the box; production refuses them. */
export const DEV_SECRETS = {
  JWT_SECRET: 'dev-jwt-secret-change-me',
  ADMIN_TOKEN: 'dev-admin-token-change-me',
  WEBHOOK_SECRET: 'dev-webhook-secret-change-me',
} as const;

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
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
  /** How long ended holds and orders stay readable in Redis before they are dropped. */
  RECORD_RETENTION_MS: positiveInt.default(48 * 3600_000),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default(DEV_SECRETS.JWT_SECRET),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').default(DEV_SECRETS.ADMIN_TOKEN),
  WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').default(DEV_SECRETS.WEBHOOK_SECRET),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Requests per second per customer on the customer API (per API process; 0 = no limit). */
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(20),
  /** Requests a customer may send at once before the rate applies. */
  RATE_LIMIT_BURST: positiveInt.default(40),
  /** How long a worker's job lock lasts; a killed worker's job is retried by another after about this long. */
  JOB_LOCK_MS: positiveInt.min(1000).default(30_000),
  /** Redis command timeout: a request fails with 503 after this, never hangs. */
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(1_000),
});

const refined = schema.refine((c) => c.RECORD_RETENTION_MS >= Math.max(c.HOLD_TTL_MS, c.PAYMENT_TTL_MS), {
  message: 'must be at least HOLD_TTL_MS and PAYMENT_TTL_MS (records must outlive the holds and orders they describe)',
  path: ['RECORD_RETENTION_MS'],
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = refined.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  const devSecrets = devSecretsInUse(config);
  if (config.NODE_ENV === 'production' && devSecrets.length > 0) {
    throw new ConfigError(`invalid configuration: ${devSecrets.join(', ')} must be set in production`);
  }
  return config;
}

/** Names of the secrets still at their development defaults. */
export function devSecretsInUse(config: Config): string[] {
  return (Object.keys(DEV_SECRETS) as (keyof typeof DEV_SECRETS)[]).filter((k) => config[k] === DEV_SECRETS[k]);
}
