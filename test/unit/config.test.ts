import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../../src/tools/databases.js';
import { ConfigError, DEV_SECRETS, devSecretsInUse, loadConfig, type Config } from '../../src/config.js';

const secrets = { JWT_SECRET: 'a'.repeat(32), ADMIN_TOKEN: 'b'.repeat(32), WEBHOOK_SECRET: 'c'.repeat(32) };

describe('config', () => {
  it('has the SPEC defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/flashsale',
      KEY_PREFIX: 'fs',
      HOLD_TTL_MS: 120_000,
      PAYMENT_TTL_MS: 900_000,
      LOG_LEVEL: 'info',
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
      HTTP_MAX_CONNECTIONS: 10_000,
      SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    expect(devSecretsInUse(c)).toEqual(['JWT_SECRET', 'ADMIN_TOKEN', 'WEBHOOK_SECRET']);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://localhost'],
    ['DATABASE_URL', 'mysql://x'],
    ['KEY_PREFIX', 'has space'],
    ['KEY_PREFIX', 'a{b}'],
    ['HOLD_TTL_MS', '-5'],
    ['HOLD_TTL_MS', '1.5'],
    ['PAYMENT_TTL_MS', '0'],
    ['JWT_SECRET', 'short'],
    // a Bearer token arrives without the spaces around it: no request could match
    ['ADMIN_TOKEN', ' admin-token-with-a-space-before'],
    ['ADMIN_TOKEN', 'admin-token-with-a-space-after '],
    ['LOG_LEVEL', 'loud'],
    ['HTTP_MAX_CONNECTIONS', '0'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
    ['API_PROCESSES', '0'],
    ['API_PROCESSES', 'many'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}:`));
  });

  // a blank value counts as unset, never as 0 or ""; a list with an empty entry is refused
  describe.each<[string, string, { is: unknown } | { refused: RegExp }]>([
    ['PORT', ' ', { is: 3000 }],
    ['RATE_LIMIT_PER_SECOND', ' ', { is: 20 }],
    ['HOLD_TTL_MS', '\t', { is: 120_000 }],
    ['API_PROCESSES', ' \n', { is: 1 }],
    ['KEY_PREFIX', '  ', { is: 'fs' }],
    ['STRIPE_WEBHOOK_SECRET', ' ', { is: undefined }],
    ['WEBHOOK_RETRY_SCHEDULE_MS', ' ', { is: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] }],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0,5000,', { refused: /has an empty entry/ }],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0,,5000', { refused: /has an empty entry/ }],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0, ,5000', { refused: /has an empty entry/ }],
    ['JWT_ALGORITHMS', 'HS256,', { refused: /has an empty entry/ }],
    ['WEBHOOK_SECRET', `${'c'.repeat(32)},`, { refused: /has an empty entry/ }],
    ['STRIPE_WEBHOOK_SECRET', `,whsec_${'s'.repeat(32)}`, { refused: /has an empty entry/ }],
    ['ADYEN_WEBHOOK_SECRET', `${'ab'.repeat(16)}, `, { refused: /has an empty entry/ }],
    ['REDIS_URL', 'redis://127.0.0.1:6379,', { refused: /must be a redis:\/\/ URL/ }],
  ])('%s=%j', (name, value, expected) => {
    if ('is' in expected) {
      it('counts as unset', () => expect(loadConfig({ [name]: value })[name as keyof Config]).toEqual(expected.is));
    } else {
      it('is refused, naming the variable', () => expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}: ${expected.refused.source}`)));
    }
  });

  it('refuses a record retention shorter than the holds and orders it must outlive', () => {
    expect(() => loadConfig({ RECORD_RETENTION_MS: '60000' })).toThrow(/RECORD_RETENTION_MS: must be at least HOLD_TTL_MS and PAYMENT_TTL_MS/);
    expect(loadConfig({ RECORD_RETENTION_MS: '60000', HOLD_TTL_MS: '1000', PAYMENT_TTL_MS: '60000' }).RECORD_RETENTION_MS).toBe(60_000);
  });

  it('refuses in production a record retention shorter than an Idempotency-Key is kept (its replay needs the record)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets, RECORD_RETENTION_MS: '86400000' })).toThrow(
      /RECORD_RETENTION_MS: must be at least 172800000 in production/,
    );
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).RECORD_RETENTION_MS).toBe(172_800_000);
    expect(loadConfig({ RECORD_RETENTION_MS: '86400000' }).RECORD_RETENTION_MS).toBe(86_400_000);
  });

  it('refuses a headers timeout longer than the request timeout (Node would refuse to create the server)', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '40000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS/);
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '40000' }).HTTP_HEADERS_TIMEOUT_MS).toBe(40_000);
  });

  it('runs one API process per core in production and one elsewhere, unless told', () => {
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).API_PROCESSES).toBe(availableParallelism());
    expect(loadConfig({}).API_PROCESSES).toBe(1);
    expect(loadConfig({ NODE_ENV: 'production', ...secrets, API_PROCESSES: '3' }).API_PROCESSES).toBe(3);
    expect(loadConfig({ API_PROCESSES: '2' }).API_PROCESSES).toBe(2);
  });

  it('production refuses the development secrets, naming each', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET, ADMIN_TOKEN, WEBHOOK_SECRET must be set in production/);
    // a blank one is unset too
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets, WEBHOOK_SECRET: '  ' })).toThrow(/WEBHOOK_SECRET must be set/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets, ADMIN_TOKEN: DEV_SECRETS.ADMIN_TOKEN })).toThrow(/ADMIN_TOKEN must be set/);
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).NODE_ENV).toBe('production');
  });

  // what the webhook verifier takes from WEBHOOK_SECRET: each part of `old,new`, trimmed
  it.each([
    ['the old one of a rotation', `${DEV_SECRETS.WEBHOOK_SECRET},${'n'.repeat(32)}`],
    ['the new one of a rotation', `${'n'.repeat(32)}, ${DEV_SECRETS.WEBHOOK_SECRET}`],
    ['with spaces around it', ` ${DEV_SECRETS.WEBHOOK_SECRET} `],
  ])('production refuses the development WEBHOOK_SECRET as %s (the verifier would accept its signatures)', (_, value) => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...secrets, WEBHOOK_SECRET: value })).toThrow(/WEBHOOK_SECRET must be set in production/);
    expect(devSecretsInUse(loadConfig({ ...secrets, WEBHOOK_SECRET: value }))).toEqual(['WEBHOOK_SECRET']);
  });

  it('asks for an fsynced Redis in production and waits for no replicas unless told', () => {
    expect(loadConfig({}).REDIS_DURABILITY).toBe('relaxed');
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).REDIS_DURABILITY).toBe('fsync');
    expect(loadConfig({ NODE_ENV: 'production', ...secrets, REDIS_DURABILITY: 'fsync-unverified' }).REDIS_DURABILITY).toBe('fsync-unverified');
    expect(loadConfig({}).REDIS_REPLICA_ACKS).toBe(0);
    expect(() => loadConfig({ REDIS_DURABILITY: 'always' })).toThrow(/REDIS_DURABILITY:/);
    expect(() => loadConfig({ REDIS_REPLICA_ACKS: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '1000' })).toThrow(/REDIS_REPLICA_ACK_TIMEOUT_MS: must be below REDIS_COMMAND_TIMEOUT_MS/);
  });

  it('the engine process stops at start with the message', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'api'], {
      env: { ...process.env, NODE_ENV: 'test', HOLD_TTL_MS: 'soon' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('HOLD_TTL_MS');
  });

  it('a mistyped command prints the usage, and neither starts nor creates anything', async () => {
    // development mode creates DATABASE_URL's database when it is missing: not for a command that does nothing
    const name = `fs_cli_${process.pid}_${Date.now()}`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'strat'], {
      env: { ...process.env, NODE_ENV: 'development', DATABASE_URL: withDatabase(inject('postgresUrl'), name) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('usage: cli.ts all | api | worker | migrate | recover');
    const server = postgres(inject('postgresUrl'), { max: 1, onnotice: () => {} });
    try {
      const found = await server`SELECT 1 FROM pg_database WHERE datname = ${name}`;
      if (found.length > 0) await server.unsafe(`DROP DATABASE "${name}"`);
      expect(found.length).toBe(0);
    } finally {
      await server.end();
    }
  });
});
