/**
 * The reference API: a small, dependency-free implementation of the documented contract
 * (shared/api/), used as the `local` target and, with one named fault or faithful variant, to
 * prove that the suite catches what it claims to catch. Built by a factory that does not listen.
 *
 * Every fault is read at exactly one place below, always as `fault === '...'` (negated with
 * `!(...)` where needed), so that selfcheck/catalog.spec.ts can count them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LIMITS, charCount } from '../fixtures/schemas';
import type { FaultName, VariantName } from './faults';
import { decodeJwt, signJwt, verifyJwt, type Claims } from './jwt';

export const API_BASE_PATH = '/quran-reflect';

export type ReferenceApiOptions = {
  fault?: FaultName;
  variant?: VariantName;
  /** OAuth2 clients: id -> secret. */
  clients?: Record<string, string>;
  signingKey?: string;
  /** Called with every token it issues, so the secret scan knows what to look for. */
  onTokenIssued?: (token: string) => void;
};

type Grant = { sub: string; clientId: string; scope: string };
type StoredRoom = {
  id: number; name: string; description?: string; url: string;
  isPublic: boolean; hideFollowJoinButton: boolean; ownerId: string; createdAt: Date;
};
type Input = { name: string; description?: string; url: string; public?: boolean; hideFollowJoinButton?: boolean };
type Answer = { status: number; body?: unknown; headers?: Record<string, string>; raw?: 'hang' | 'drop' };

export type ReferenceApiStats = { requests: number; byRoute: Record<string, number>; groupsCreated: number };

export function createReferenceApi(options: ReferenceApiOptions = {}) {
  const { fault, variant } = options;
  const clients = options.clients ?? {};
  const signingKey = options.signingKey ?? randomBytes(32).toString('hex');
  const rooms = new Map<number, StoredRoom>();
  const idByUrl = new Map<string, number>();
  const refreshTokens = new Map<string, Grant>();
  const stats: ReferenceApiStats = { requests: 0, byRoute: {}, groupsCreated: 0 };
  let nextId = variant === 'large-ids' ? Number.MAX_SAFE_INTEGER - 100_000 : 1;
  let apiRequests = 0;

  const urlKey = (url: string) => (variant === 'lowercased-urls' ? url.toLowerCase() : url);

  function issueRefreshToken(grant: Grant): string {
    const token = `rt_${randomBytes(24).toString('base64url')}`;
    refreshTokens.set(token, grant);
    options.onTokenIssued?.(token);
    return token;
  }

  function issueAccessToken(grant: Grant): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: Claims = { sub: grant.sub, client_id: grant.clientId, scope: grant.scope, iat: now, exp: now + 3600, jti: randomUUID() };
    const token = signJwt(claims, signingKey);
    options.onTokenIssued?.(token);
    return token;
  }

  // ---- authentication --------------------------------------------------------------------------
  function authenticate(req: http.IncomingMessage, scope: string): { user: string } | { status: number } {
    if (fault === 'auth-skipped') return { user: 'anonymous' };
    const token = header(req, 'x-auth-token');
    const clientId = header(req, 'x-client-id');
    if (!token) return { status: fault === 'auth-missing-403' ? 403 : 401 };
    let claims: Partial<Claims> | undefined;
    if (fault === 'auth-presence-only') claims = decodeJwt(token) ?? { sub: 'anonymous', client_id: clientId, scope };
    else if (fault === 'auth-signature-unchecked') claims = decodeJwt(token);
    else claims = verifyJwt(token, signingKey);
    if (!claims?.sub) return { status: fault === 'auth-invalid-400' ? 400 : 401 };
    if (!clientId && !(fault === 'auth-client-id-unchecked')) return { status: 401 };
    if (clientId && claims.client_id && clientId !== claims.client_id) return { status: 401 };
    const granted = String(claims.scope ?? '').split(' ');
    if (!granted.includes(scope) && !granted.includes(scope.split('.')[0])) return { status: 403 };
    return { user: claims.sub };
  }

  // ---- validation ------------------------------------------------------------------------------
  type Problem = { field: string; problem: 'type' | 'required' | 'too-long' };
  function validate(body: unknown): { input: Input } | Problem {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { field: 'body', problem: 'type' };
    const b = body as Record<string, unknown>;
    const coerce = fault === 'wrong-types-coerced';
    const length = fault === 'limits-in-bytes' ? (s: string) => Buffer.byteLength(s) : charCount;
    const enforceMax = !(fault === 'limits-not-enforced');
    const max = {
      name: fault === 'name-limit-49' ? 49 : fault === 'name-limit-51' ? 51 : LIMITS.name,
      url: fault === 'url-limit-49' ? 49 : fault === 'url-limit-51' ? 51 : LIMITS.url,
      description: fault === 'description-limit-199' ? 199 : fault === 'description-limit-201' ? 201 : LIMITS.description,
    };
    const text = (field: 'name' | 'url' | 'description'): string | Problem | undefined => {
      const v = b[field];
      if (v === undefined) return undefined;
      const s = typeof v === 'string' ? v : coerce && typeof v === 'number' ? String(v) : undefined;
      if (s === undefined) {
        if (field === 'name' && fault === 'wrong-types-500') (v as string).trim(); // the crash of a server that trusts its input
        return { field, problem: 'type' };
      }
      if (enforceMax && length(s) > max[field]) {
        if (field === 'name' && fault === 'over-limit-500') throw new RangeError('value too long for column "name"');
        return { field, problem: 'too-long' };
      }
      return s;
    };
    const flag = (field: 'public' | 'hideFollowJoinButton'): boolean | Problem | undefined => {
      const v = b[field];
      if (v === undefined || typeof v === 'boolean') return v;
      if (coerce) return v === 'true' || v === 'yes' || v === 1;
      return { field, problem: 'type' };
    };
    const name = text('name');
    let url = text('url');
    const description = text('description');
    const pub = flag('public');
    const hide = flag('hideFollowJoinButton');
    for (const v of [name, url, description, pub, hide]) if (typeof v === 'object') return v;
    if (url === undefined && fault === 'missing-url-accepted') url = `group-${randomBytes(4).toString('hex')}`;
    if (name === undefined || (name === '' && !(fault === 'empty-name-accepted'))) return { field: 'name', problem: 'required' };
    if (url === undefined || url === '') return { field: 'url', problem: 'required' };
    return { input: { name: name as string, url: url as string, description: description as string | undefined, public: pub as boolean | undefined, hideFollowJoinButton: hide as boolean | undefined } };
  }

  // ---- storage and serialisation ---------------------------------------------------------------
  function store(input: Input, ownerId: string): StoredRoom {
    let name = input.name;
    if (fault === 'non-ascii-mangled') name = name.replace(/[^\x00-\x7f]/g, '?');
    if (fault === 'name-truncated-40') name = [...name].slice(0, 40).join('');
    let isPublic = input.public ?? variant === 'other-defaults';
    let hide = input.hideFollowJoinButton ?? false;
    if (fault === 'public-ignored') isPublic = true;
    if (fault === 'hide-button-inverted') hide = !hide;
    if (fault === 'booleans-swapped') [isPublic, hide] = [hide, isPublic];
    const url = variant === 'lowercased-urls' ? input.url.toLowerCase() : input.url;
    const kept = fault === 'flags-stored-as-defaults' ? { isPublic: true, hide: false } : { isPublic, hide };
    const room: StoredRoom = {
      id: nextId++,
      name: fault === 'read-stale-name' ? [...name].slice(0, 30).join('') : name,
      description: fault === 'description-dropped' ? '' : input.description,
      url: fault === 'url-suffixed' ? `${url}-1` : url,
      isPublic: kept.isPublic,
      hideFollowJoinButton: kept.hide,
      ownerId: fault === 'owner-id-other-user' ? 'user-somebody-else' : ownerId,
      createdAt: new Date(),
    };
    stats.groupsCreated++;
    if (!(fault === 'not-persisted')) {
      rooms.set(room.id, room);
      idByUrl.set(urlKey(room.url), room.id);
    }
    // The create echo shows the name and flags as received, whatever was stored.
    return { ...room, name, isPublic, hideFollowJoinButton: hide };
  }

  function serialise(room: StoredRoom, viewer: string): Record<string, unknown> {
    const isOwner = room.ownerId === viewer;
    const data: Record<string, unknown> = {
      id: fault === 'id-as-string' ? String(room.id) : room.id,
      name: room.name,
      description: room.description ?? (fault === 'description-null-when-omitted' ? null : ''),
      roomType: 'group',
      isActive: true,
      isVerified: false,
      isPublic: room.isPublic,
      hideFollowJoinButton: room.hideFollowJoinButton,
      isOwner: fault === 'is-owner-false' ? false : isOwner,
      isAdmin: isOwner,
      ownerId: fault === 'owner-id-number' ? 4242 : room.ownerId,
      postsCount: 0,
      membersCount: fault === 'members-count-string' ? '1' : 1,
      url: room.url,
      avatarUrls: {
        thumb: fault === 'avatar-thumb-null' ? null : `https://static.example.invalid/groups/${room.id}/thumb.png`,
        original: `https://static.example.invalid/groups/${room.id}/original.png`,
      },
      createdAt: fault === 'created-at-not-date' ? '28/11/2026 10:00' : room.createdAt.toISOString(),
      isMember: fault === 'is-member-string' ? 'true' : true,
      country: 'SA',
    };
    if (fault === 'missing-room-type') delete data.roomType;
    if (fault === 'avatar-urls-missing') delete data.avatarUrls;
    if (variant === 'optional-omitted') for (const k of ['url', 'subdomain', 'country', 'createdAt', 'isMember']) delete data[k];
    if (variant === 'optional-omitted') data.avatarUrls = {};
    if (variant === 'datetime-offset') data.createdAt = offsetDateTime(room.createdAt);
    if (variant === 'datetime-lowercase') data.createdAt = room.createdAt.toISOString().toLowerCase();
    if (variant === 'other-defaults') Object.assign(data, { roomType: 'community', isActive: false, isVerified: true, isAdmin: false, postsCount: 3, membersCount: 0 });
    if (variant === 'extra-fields') Object.assign(data, { moderation: { state: 'pending' }, tags: ['x'], language: 'ar' });
    return data;
  }

  // ---- operations ------------------------------------------------------------------------------
  function createGroup(req: http.IncomingMessage, raw: Buffer): Answer {
    const auth = authenticate(req, 'room.create');
    let parsed: unknown;
    let parseError = false;
    try { parsed = JSON.parse(raw.toString('utf8')); } catch { parseError = true; }
    if ('status' in auth) {
      const checked = parseError ? undefined : validate(parsed);
      if (fault === 'unauthorized-still-stored' && checked && 'input' in checked) store(checked.input, 'anonymous');
      return { status: auth.status };
    }
    if (parseError) return { status: fault === 'malformed-json-500' ? 500 : 400 };
    const checked = validate(parsed);
    if (!('input' in checked)) {
      const valid = validate({ ...(parsed as object), description: undefined });
      if (fault === 'rejected-still-stored' && checked.field === 'description' && 'input' in valid) store(valid.input, auth.user);
      const lenient = fault === 'refused-shape-stored' ? validate(firstOfLists(parsed)) : undefined;
      if (lenient && 'input' in lenient) store(lenient.input, auth.user);
      return { status: 400 };
    }
    const taken = idByUrl.get(urlKey(checked.input.url));
    if (taken !== undefined) {
      if (fault === 'duplicate-url-409') return { status: 409 };
      if (fault === 'duplicate-overwrites') Object.assign(rooms.get(taken)!, { name: checked.input.name, description: checked.input.description });
      if (!(fault === 'duplicate-url-accepted')) return { status: 400 };
    }
    const room = store(checked.input, auth.user);
    if (fault === 'create-hangs') return { status: 0, raw: 'hang' };
    if (fault === 'create-drops-connection') return { status: 0, raw: 'drop' };
    const data = serialise(room, auth.user);
    const body = fault === 'data-unwrapped' ? data : { success: !(fault === 'success-false'), data, ...(variant === 'extra-fields' ? { requestId: randomUUID() } : {}) };
    return {
      status: fault === 'create-200' ? 200 : 201,
      body,
      headers: fault === 'content-type-text' ? { 'content-type': 'text/plain; charset=utf-8' } : {},
    };
  }

  function readGroup(req: http.IncomingMessage, by: 'id' | 'url', key: string): Answer {
    const auth = authenticate(req, 'room.read');
    if ('status' in auth) return { status: auth.status };
    const id = by === 'id' ? Number(key) : idByUrl.get(urlKey(key));
    const room = id === undefined || (by === 'url' && fault === 'read-by-url-404') ? undefined : rooms.get(id);
    if (!room) return { status: 404 };
    const profile: Record<string, unknown> = { ...serialise(room, auth.user), mutualFollowers: [], mutualFollowersCount: 0, ...(variant === 'extra-fields' ? { privateToken: 'tok' } : {}) };
    if (by === 'url' && fault === 'read-public-flipped') profile.isPublic = !room.isPublic;
    return { status: 200, body: by === 'id' && fault === 'read-wrapped' ? { success: true, data: profile } : profile };
  }

  function token(req: http.IncomingMessage, raw: Buffer): Answer {
    const basic = /^Basic (.+)$/i.exec(header(req, 'authorization') ?? '');
    const [clientId, secret] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [];
    if (!clientId || clients[clientId] === undefined || clients[clientId] !== secret)
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
    const form = new URLSearchParams(raw.toString('utf8'));
    if (form.get('grant_type') !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const grant = refreshTokens.get(form.get('refresh_token') ?? '');
    if (!grant || grant.clientId !== clientId)
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' } };
    refreshTokens.delete(form.get('refresh_token')!);
    return {
      status: 200,
      body: { access_token: issueAccessToken(grant), token_type: 'bearer', expires_in: 3600, scope: grant.scope, refresh_token: issueRefreshToken(grant) },
    };
  }

  function route(req: http.IncomingMessage, raw: Buffer): Answer {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/oauth2/token') return count('token', () => token(req, raw));
    if (!path.startsWith(`${API_BASE_PATH}/`)) return count('unknown', () => ({ status: 404 }));
    const api = path.slice(API_BASE_PATH.length);
    if (variant === 'rate-limited' && ++apiRequests % 5 === 0) return count('429', () => ({ status: 429, headers: { 'retry-after': '1' } }));
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && api === '/v1/rooms/groups') return count('create', () => createGroup(req, raw));
    if (req.method === 'GET' && (m = /^\/v1\/rooms\/group\/([^/]+)$/.exec(api))) return count('read-by-url', () => readGroup(req, 'url', decodeURIComponent(m![1])));
    if (req.method === 'GET' && (m = /^\/v1\/rooms\/(\d+)$/.exec(api))) return count('read-by-id', () => readGroup(req, 'id', m![1]));
    return count('unknown', () => ({ status: 404 }));
  }

  function count(routeName: string, run: () => Answer): Answer {
    stats.requests++;
    stats.byRoute[routeName] = (stats.byRoute[routeName] ?? 0) + 1;
    return run();
  }

  function send(res: http.ServerResponse, answer: Answer) {
    const headers: Record<string, string> = { ...answer.headers };
    let body: Buffer | undefined;
    if (answer.body !== undefined) {
      body = Buffer.from(JSON.stringify(answer.body));
      headers['content-type'] ??= 'application/json; charset=utf-8';
    } else if (answer.status >= 400 && answer.status !== 429) {
      body = Buffer.from(JSON.stringify({ message: http.STATUS_CODES[answer.status], type: 'error', success: false }));
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    if (variant === 'other-error-bodies' && answer.status >= 400) {
      body = answer.status === 401 ? undefined : Buffer.from(`${answer.status} ${http.STATUS_CODES[answer.status]}`);
      headers['content-type'] = 'text/plain';
    }
    if (variant === 'gzip' && body) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let answer: Answer;
      try {
        answer = route(req, Buffer.concat(chunks));
      } catch (e) {
        answer = { status: 500, body: { message: 'Internal server error', type: 'error', success: false } };
      }
      if (answer.raw === 'hang') return;
      if (answer.raw === 'drop') return void req.socket.destroy();
      if (variant === 'slow') setTimeout(() => send(res, answer), 300);
      else send(res, answer);
    });
  });

  /** What the API holds, as a self-test inspects it: every stored group. */
  const groups = () => [...rooms.values()].map((r) => ({ ...r }));
  return { server, stats, groups, issueRefreshToken, issueAccessToken };
}

export type ReferenceApi = ReturnType<typeof createReferenceApi>;

/** Listens on a free loopback port; `close` also ends connections that a fault left hanging. */
export async function listen(api: ReferenceApi, port = 0): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => api.server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = api.server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${actual}`,
    close: () => new Promise<void>((resolve) => { api.server.closeAllConnections(); api.server.close(() => resolve()); }),
  };
}

/** How a lenient parser reads a body of lists: the first element of an array body, and of each list field. */
function firstOfLists(body: unknown): unknown {
  const b = Array.isArray(body) ? body[0] : body;
  if (typeof b !== 'object' || b === null) return b;
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

function offsetDateTime(d: Date): string {
  const shifted = new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 19);
  return `${shifted}+03:00`;
}
