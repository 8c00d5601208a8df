import type { KeyObject } from 'node:crypto';

/**
 * The token algorithms the engine accepts. HS256 is the shared-secret scheme for development (and
 * storefronts that sign their own tokens); the others are what identity providers publish in a JWKS.
 */
export const SYMMETRIC_ALGORITHMS = ['HS256'] as const;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type JwtAlgorithm = (typeof SYMMETRIC_ALGORITHMS)[number] | (typeof ASYMMETRIC_ALGORITHMS)[number];

export const isAsymmetric = (alg: JwtAlgorithm): boolean => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Whether a public key can verify tokens of an algorithm (RSA for RS/PS, the named curve for ES, Ed25519/Ed448 for EdDSA). */
export function keyFits(alg: JwtAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  if (alg === 'Ed25519') return type === 'ed25519';
  return false;
}
