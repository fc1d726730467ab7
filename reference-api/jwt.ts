import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

export type Claims = { sub: string; client_id: string; scope: string; exp: number; iat: number; jti: string };

export function signJwt(claims: Claims, key: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** The claims of a JWT without checking anything; undefined when it is not a JWT. */
export function decodeJwt(token: string): Partial<Claims> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The claims when the signature is right and the token has not expired. */
export function verifyJwt(token: string, key: string, now = Date.now()): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = decodeJwt(token) as Claims | undefined;
  if (!claims || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
  return claims.exp * 1000 > now ? claims : undefined;
}
