/**
 * The identity provider every API instance of one host shares: OAuth2 clients, the signing key of
 * the access tokens, authorization codes and refresh tokens. It offers the authorization-code flow
 * with PKCE (S256 only) and refresh-token rotation, as shared/api/README.md describes them; the
 * test user is approved (or denied) without a login page. With the `openid` scope it also issues an
 * id_token (RS256) whose issuer is its origin with a trailing slash, as the real server names itself
 * (docs/api-facts.md), so that the login's exact issuer check runs against it.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { z } from 'zod';
import { type Claims, signJwt, verifyJwt } from '../fixtures/contract/jwt';
import type { Answer, HttpRequest } from './http';

/** A secret, or a secret and the redirect URIs registered for the client. */
export type ClientRegistration = string | { secret: string; redirectUris?: string[] };
export type Grant = { sub: string; clientId: string; scope: string };

export type IdentityProviderOptions = {
  clients?: Record<string, ClientRegistration>;
  signingKey?: string;
  /** Called with every token and code it issues, so the secret scan knows what to look for. */
  onTokenIssued?: (token: string) => void;
  /** The user the authorize endpoint logs in. */
  user?: string;
  /** What that user answers on the consent screen. */
  consent?: 'approve' | 'deny';
  /** The id_token's issuer; default the origin the request was sent to, with a trailing slash. */
  issuer?: string;
};

export const DEFAULT_USER = 'user-reference-qa';
const CODE_TTL_MS = 60_000;
const ACCESS_TTL_S = 3600;

type Client = { secret: string; redirectUris: readonly string[] };
type Code = Grant & { redirectUri: string; challenge: string; expiresAt: number };

const Pkce = z.object({
  response_type: z.literal('code', { error: 'response_type must be "code"' }),
  code_challenge: z
    .string({ error: 'code_challenge is required' })
    .regex(/^[A-Za-z0-9_-]{43}$/, 'code_challenge must be the base64url SHA-256 of the verifier'),
  code_challenge_method: z.literal('S256', { error: 'code_challenge_method must be S256' }),
});
const RefreshForm = z.object({ refresh_token: z.string().default('') });
const CodeForm = z.object({
  code: z.string().min(1),
  redirect_uri: z.string().min(1),
  code_verifier: z.string().min(1),
});

const oauthError = (status: number, error: string, description?: string): Answer => ({
  status,
  body: { error, ...(description ? { error_description: description } : {}) },
});

function redirect(to: string, params: Record<string, string | undefined>): Answer {
  const url = new URL(to);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return { status: 302, headers: { location: url.href } };
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** One RSA key per process, made when the first id_token is signed (most runs never ask for one). */
let idTokenKey: KeyObject | undefined;
function signIdToken(claims: Record<string, unknown>): string {
  idTokenKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'reference' })}.${part(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), idTokenKey).toString('base64url')}`;
}

export function createIdentityProvider(options: IdentityProviderOptions = {}) {
  const registered = (c: ClientRegistration): Client =>
    typeof c === 'string' ? { secret: c, redirectUris: [] } : { secret: c.secret, redirectUris: c.redirectUris ?? [] };
  const clients = new Map(Object.entries(options.clients ?? {}).map(([id, c]) => [id, registered(c)]));
  const signingKey = options.signingKey ?? randomBytes(32).toString('hex');
  const user = options.user ?? DEFAULT_USER;
  const refreshTokens = new Map<string, Grant>();
  const codes = new Map<string, Code>();
  const issued = (token: string) => {
    options.onTokenIssued?.(token);
    return token;
  };

  function issueRefreshToken(grant: Grant): string {
    const token = `rt_${randomBytes(24).toString('base64url')}`;
    refreshTokens.set(token, grant);
    return issued(token);
  }

  function issueAccessToken(grant: Grant, issuer?: string): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: Claims = {
      ...(issuer ? { iss: issuer } : {}),
      sub: grant.sub,
      client_id: grant.clientId,
      scope: grant.scope,
      iat: now,
      exp: now + ACCESS_TTL_S,
      jti: randomUUID(),
    };
    return issued(signJwt(claims, signingKey));
  }

  function issueIdToken(grant: Grant, request: HttpRequest): string {
    const now = Math.floor(Date.now() / 1000);
    return issued(
      signIdToken({ iss: issuerOf(request), sub: grant.sub, aud: [grant.clientId], iat: now, exp: now + ACCESS_TTL_S }),
    );
  }

  const tokenAnswer = (grant: Grant, withRefresh: boolean, request: HttpRequest): Answer => ({
    status: 200,
    body: {
      access_token: issueAccessToken(grant, issuerOf(request)),
      token_type: 'bearer',
      expires_in: ACCESS_TTL_S,
      scope: grant.scope,
      ...(withRefresh ? { refresh_token: issueRefreshToken(grant) } : {}),
      ...(grant.scope.split(' ').includes('openid') ? { id_token: issueIdToken(grant, request) } : {}),
    },
  });

  /** GET /oauth2/auth: the client and its redirect URI are checked before anything is redirected. */
  function authorize(query: URLSearchParams): Answer {
    const clientId = query.get('client_id') ?? '';
    const client = clients.get(clientId);
    if (!client) return oauthError(400, 'invalid_client', 'The requested OAuth 2.0 Client does not exist.');
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!client.redirectUris.includes(redirectUri))
      return oauthError(400, 'invalid_request', 'The redirect URL is not allowed.');
    const state = query.get('state') ?? undefined;
    const refuse = (error: string, description: string) =>
      redirect(redirectUri, { error, error_description: description, state });
    const pkce = Pkce.safeParse(Object.fromEntries(query));
    if (!pkce.success) return refuse('invalid_request', pkce.error.issues[0].message);
    if (options.consent === 'deny') return refuse('access_denied', 'The user denied the request.');
    const code = issued(`ac_${randomBytes(24).toString('base64url')}`);
    codes.set(code, {
      sub: user,
      clientId,
      scope: query.get('scope') ?? '',
      redirectUri,
      challenge: pkce.data.code_challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return redirect(redirectUri, { code, state });
  }

  function refreshGrant(form: URLSearchParams, clientId: string, request: HttpRequest): Answer {
    const { refresh_token: token } = RefreshForm.parse(Object.fromEntries(form));
    const grant = refreshTokens.get(token);
    if (!grant || grant.clientId !== clientId)
      return oauthError(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked');
    refreshTokens.delete(token);
    return tokenAnswer(grant, true, request);
  }

  /** A code is spent by its first exchange, whatever the outcome. */
  function codeGrant(form: URLSearchParams, clientId: string, request: HttpRequest): Answer {
    const fields = CodeForm.safeParse(Object.fromEntries(form));
    if (!fields.success) return oauthError(400, 'invalid_request', 'code, redirect_uri and code_verifier are required');
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = fields.data;
    const grant = codes.get(code);
    codes.delete(code);
    const valid =
      grant &&
      grant.expiresAt > Date.now() &&
      grant.clientId === clientId &&
      grant.redirectUri === redirectUri &&
      s256(verifier) === grant.challenge;
    if (!valid)
      return oauthError(400, 'invalid_grant', 'The authorization code is invalid, expired, spent or not yours');
    const { sub, scope } = grant;
    return tokenAnswer({ sub, clientId, scope }, scope.split(' ').includes('offline_access'), request);
  }

  /** The client of a request with HTTP Basic client authentication, or undefined. */
  function clientOf(request: HttpRequest): string | undefined {
    const basic = /^Basic (.+)$/i.exec(request.header('authorization') ?? '');
    const pair = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
    const colon = pair.indexOf(':');
    // Both halves are form-urlencoded (RFC 6749, 2.3.1): `-` may come as %2D.
    const decoded = (v: string) => {
      try {
        return decodeURIComponent(v.replace(/\+/g, ' '));
      } catch {
        return v;
      }
    };
    const [clientId, secret] =
      colon < 0 ? [decoded(pair), undefined] : [decoded(pair.slice(0, colon)), decoded(pair.slice(colon + 1))];
    return clientId && clients.get(clientId)?.secret === secret ? clientId : undefined;
  }

  /** The issuer its tokens name: its origin as the caller reached it, with a trailing slash as the real server's. */
  const issuerOf = (request: HttpRequest) => options.issuer ?? `http://${request.header('host') ?? 'localhost'}/`;

  /** POST /oauth2/token, with HTTP Basic client authentication. */
  function token(request: HttpRequest): Answer {
    const clientId = clientOf(request);
    if (!clientId) return oauthError(401, 'invalid_client', 'Client authentication failed');
    const form = new URLSearchParams(request.raw.toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType === 'refresh_token') return refreshGrant(form, clientId, request);
    if (grantType === 'authorization_code') return codeGrant(form, clientId, request);
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  /** POST /oauth2/introspect (RFC 7662), for an authenticated client: whether a token is one of ours and alive. */
  function introspect(request: HttpRequest): Answer {
    if (!clientOf(request)) return oauthError(401, 'invalid_client', 'Client authentication failed');
    const token = new URLSearchParams(request.raw.toString('utf8')).get('token') ?? '';
    const claims = verifyJwt(token, signingKey);
    return {
      status: 200,
      body: claims
        ? {
            active: true,
            sub: claims.sub,
            client_id: claims.client_id,
            scope: claims.scope,
            exp: claims.exp,
            iss: claims.iss,
          }
        : { active: false },
    };
  }

  /** The provider's answer and route name, or undefined when the request is not for it. */
  function route(request: HttpRequest): { name: string; answer: Answer } | undefined {
    const { method, path } = request;
    if (method === 'GET' && path === '/oauth2/auth') return { name: 'authorize', answer: authorize(request.query) };
    if (method === 'POST' && path === '/oauth2/token') return { name: 'token', answer: token(request) };
    if (method === 'POST' && path === '/oauth2/introspect') return { name: 'introspect', answer: introspect(request) };
    return undefined;
  }

  return { signingKey, issueAccessToken, issueRefreshToken, route };
}
