import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, devSecretsInUse, loadConfig } from '../../src/config.js';

/** Identity-provider and payment-provider settings: a combination that cannot work stops the process, naming the variable. */

const pem = (type: 'rsa' | 'ec' | 'ed25519') => {
  const opts = type === 'rsa' ? { modulusLength: 2048 } : type === 'ec' ? { namedCurve: 'P-256' } : {};
  return generateKeyPairSync(type as 'rsa', opts as { modulusLength: number }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
};
const RSA = pem('rsa');
const EC = pem('ec');
const ED = pem('ed25519');
const production = { NODE_ENV: 'production', ADMIN_TOKEN: 'b'.repeat(32), WEBHOOK_SECRET: 'c'.repeat(32) };

describe('token settings', () => {
  it.each([
    ['JWT_ALGORITHMS', { JWT_ALGORITHMS: 'RS256' }, /RS256 needs JWT_JWKS_URL or JWT_PUBLIC_KEY/],
    ['JWT_ALGORITHMS', { JWT_ALGORITHMS: 'HS256,RS256', JWT_PUBLIC_KEY: RSA }, /cannot be mixed/],
    ['JWT_ALGORITHMS', { JWT_ALGORITHMS: 'none' }, /must be HS256, RS256/],
    ['JWT_ALGORITHMS', { JWT_ALGORITHMS: 'HS512' }, /must be HS256, RS256/],
    ['JWT_ALGORITHMS', { JWT_PUBLIC_KEY: RSA }, /need a public-key algorithm/],
    ['JWT_PUBLIC_KEY', { JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: 'not a key' }, /must be a PEM public key/],
    ['JWT_PUBLIC_KEY', { JWT_ALGORITHMS: 'ES256', JWT_PUBLIC_KEY: RSA }, /a rsa key cannot verify ES256/],
    ['JWT_PUBLIC_KEY', { JWT_ALGORITHMS: 'ES384', JWT_PUBLIC_KEY: EC }, /cannot verify ES384/],
    ['JWT_PUBLIC_KEY', { JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: RSA, JWT_JWKS_URL: 'https://idp.test/jwks' }, /not both/],
    ['JWT_JWKS_URL', { JWT_ALGORITHMS: 'RS256', JWT_JWKS_URL: 'ftp://idp.test/jwks' }, /must be an http\(s\) URL/],
    ['JWT_JWKS_URL', { ...production, JWT_ALGORITHMS: 'RS256', JWT_JWKS_URL: 'http://idp.test/jwks' }, /must be https in production/],
    ['JWT_JWKS_MAX_AGE_S', { JWT_JWKS_MAX_AGE_S: '0' }, /./],
  ])('refuses %s: %j', (name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\n  ${name}(\\.\\d+)?: `));
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each([
    ['RS256 with a PEM key', { JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: RSA }],
    ['RS256 and PS256 with one RSA key', { JWT_ALGORITHMS: 'RS256, PS256', JWT_PUBLIC_KEY: RSA }],
    ['ES256 with a P-256 key, newlines escaped', { JWT_ALGORITHMS: 'ES256', JWT_PUBLIC_KEY: EC.replace(/\n/g, '\\n') }],
    ['EdDSA with an Ed25519 key', { JWT_ALGORITHMS: 'EdDSA', JWT_PUBLIC_KEY: ED }],
    ['a JWKS for several algorithms', { JWT_ALGORITHMS: 'RS256,ES256,EdDSA', JWT_JWKS_URL: 'http://127.0.0.1:9/jwks' }],
  ])('accepts %s', (_, env) => {
    expect(loadConfig(env).JWT_ALGORITHMS.length).toBeGreaterThan(0);
  });

  it('production with identity-provider tokens needs no JWT_SECRET; with HS256 it does', () => {
    expect(loadConfig({ ...production, JWT_ALGORITHMS: 'ES256', JWT_JWKS_URL: 'https://idp.test/jwks' }).JWT_ALGORITHMS).toEqual(['ES256']);
    expect(() => loadConfig(production)).toThrow(/JWT_SECRET must be set in production/);
    expect(devSecretsInUse(loadConfig({ JWT_ALGORITHMS: 'EdDSA', JWT_PUBLIC_KEY: ED }))).toEqual(['ADMIN_TOKEN', 'WEBHOOK_SECRET']);
  });
});

describe('webhook settings', () => {
  it.each([
    ['WEBHOOK_SECRET', { WEBHOOK_SECRET: `${'a'.repeat(20)},short` }, /at least 16 characters/],
    ['WEBHOOK_SECRET', { WEBHOOK_SECRET: ['a', 'b', 'c'].map((c) => c.repeat(20)).join(',') }, /at most two secrets/],
    ['STRIPE_WEBHOOK_SECRET', { STRIPE_WEBHOOK_SECRET: 'whsec_short' }, /at least 16 characters/],
    ['ADYEN_WEBHOOK_SECRET', { ADYEN_WEBHOOK_SECRET: 'not-hex-not-hex-not-hex-not-hex-' }, /must be hex/],
    ['STRIPE_LIVEMODE', { STRIPE_LIVEMODE: 'yes' }, /./],
  ])('refuses %s: %j', (name, env, message) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\n  ${name}: `));
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('a pair of secrets during rotation; live mode only in production unless set', () => {
    const c = loadConfig({ STRIPE_WEBHOOK_SECRET: `whsec_${'a'.repeat(24)}, whsec_${'b'.repeat(24)}`, ADYEN_WEBHOOK_SECRET: 'AB'.repeat(32) });
    expect(c).toMatchObject({ STRIPE_LIVEMODE: false, ADYEN_LIVEMODE: false });
    expect(loadConfig({ ...production, JWT_SECRET: 'a'.repeat(32) })).toMatchObject({ STRIPE_LIVEMODE: true, ADYEN_LIVEMODE: true });
    expect(loadConfig({ ...production, JWT_SECRET: 'a'.repeat(32), STRIPE_LIVEMODE: 'false' }).STRIPE_LIVEMODE).toBe(false);
  });
});
