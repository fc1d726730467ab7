/**
 * The reference API's newer behaviour, in process: the authorization-code flow with PKCE, the
 * multi-instance host, and one observable check of each newer fault and variant (the fault matrix
 * covers the older ones through the suite itself).
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from '../fixtures/contract/jwt';
import { DEFAULT_USER } from '../reference-api/oauth';
import {
  createReferenceApi,
  type InstanceName,
  instanceBasePath,
  listen,
  type ReferenceApiOptions,
} from '../reference-api/server';
import { expect, test } from './fixtures';

const CLIENT = 'reference-spec';
const SECRET = `spec-secret-${randomBytes(8).toString('hex')}`;
const REDIRECT = 'http://127.0.0.1:8976/callback';
const clients = { [CLIENT]: { secret: SECRET, redirectUris: [REDIRECT] } };

type Host = { api: ReturnType<typeof createReferenceApi>; origin: string; token: string; issued: string[] };
let host: Host;
let close: () => Promise<void>;

async function start(options: ReferenceApiOptions = {}): Promise<Host & { close: () => Promise<void> }> {
  const issued: string[] = [];
  const api = createReferenceApi({ clients, onTokenIssued: (t) => issued.push(t), ...options });
  const server = await listen(api);
  const token = api.issueAccessToken({ sub: 'user-spec', clientId: CLIENT, scope: 'room' });
  return { api, origin: server.origin, token, issued, close: server.close };
}

test.beforeAll(async () => {
  const started = await start();
  ({ close } = started);
  host = started;
});
test.afterAll(() => close());

// ---- OAuth2 --------------------------------------------------------------------------------------

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

async function authorize(origin: string, params: Record<string, string> = {}) {
  const url = new URL('/oauth2/auth', origin);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT,
    scope: 'openid offline_access room',
    state: 'state-123',
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  return { status: response.status, location: location ? new URL(location) : undefined, text: await response.text() };
}

/** A code approved for a fresh PKCE pair. */
async function approvedCode(origin: string) {
  const { verifier, challenge } = pkce();
  const { location } = await authorize(origin, { code_challenge: challenge });
  return { code: location!.searchParams.get('code')!, verifier };
}

async function exchange(origin: string, form: Record<string, string>) {
  const response = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT, ...form }).toString(),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('authorize approves the test user: 302 to the redirect URI with a code and the state', async () => {
  const { status, location } = await authorize(host.origin, { code_challenge: pkce().challenge });
  expect(status).toBe(302);
  expect(`${location!.origin}${location!.pathname}`).toBe(REDIRECT);
  expect(location!.searchParams.get('state')).toBe('state-123');
  expect(host.issued).toContain(location!.searchParams.get('code'));
});

test('authorize when the user denies consent: 302 with access_denied and the state', async () => {
  const denying = await start({ consent: 'deny' });
  try {
    const { status, location } = await authorize(denying.origin, { code_challenge: pkce().challenge });
    expect(status).toBe(302);
    const q = location!.searchParams;
    expect([q.get('error'), q.get('state'), q.get('code')]).toEqual(['access_denied', 'state-123', null]);
    expect(q.get('error_description')).toBeTruthy();
  } finally {
    await denying.close();
  }
});

test('authorize with a redirect URI not registered for the client: 400 invalid_request, no redirect', async () => {
  const redirectUri = 'http://127.0.0.1:9999/cb';
  const answer = await authorize(host.origin, { code_challenge: pkce().challenge, redirect_uri: redirectUri });
  expect([answer.status, answer.location]).toEqual([400, undefined]);
  const error = { error: 'invalid_request', error_description: 'The redirect URL is not allowed.' };
  expect(JSON.parse(answer.text)).toEqual(error);
});

test('authorization_code with the right verifier: an access token for the user, and a refresh token', async () => {
  const { code, verifier } = await approvedCode(host.origin);
  const { status, json } = await exchange(host.origin, { code, code_verifier: verifier });
  expect(status).toBe(200);
  expect(json).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'openid offline_access room' });
  expect(decodeJwt(String(json.access_token))?.sub).toBe(DEFAULT_USER);
  expect(host.issued).toEqual(expect.arrayContaining([json.access_token, json.refresh_token]));
});

test('authorization_code with a wrong verifier: 400 invalid_grant', async () => {
  const { code } = await approvedCode(host.origin);
  const { status, json } = await exchange(host.origin, { code, code_verifier: pkce().verifier });
  expect([status, json.error]).toEqual([400, 'invalid_grant']);
});

test('an authorization code works once: its reuse is 400 invalid_grant', async () => {
  const { code, verifier } = await approvedCode(host.origin);
  expect((await exchange(host.origin, { code, code_verifier: verifier })).status).toBe(200);
  const again = await exchange(host.origin, { code, code_verifier: verifier });
  expect([again.status, again.json.error]).toEqual([400, 'invalid_grant']);
});

// ---- the multi-instance host -----------------------------------------------------------------------

let urls = 0;
const freshUrl = () => `ref-spec-${process.pid}-${++urls}`;
const groupBody = (o: Record<string, unknown> = {}) => ({
  name: 'Reference spec',
  description: 'A group',
  url: freshUrl(),
  public: false,
  hideFollowJoinButton: false,
  ...o,
});

async function call(name: InstanceName, route: string, o: { body?: unknown; token?: string } = {}) {
  const response = await fetch(`${host.origin}${instanceBasePath(name)}${route}`, {
    method: o.body === undefined ? 'GET' : 'POST',
    headers: { 'x-auth-token': o.token ?? host.token, 'x-client-id': CLIENT, 'content-type': 'application/json' },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, read field by field by the tests
  type Json = Record<string, any>;
  return { status: response.status, json: (text ? JSON.parse(text) : undefined) as Json | undefined };
}
const create = (name: InstanceName, body: unknown) => call(name, '/v1/rooms/groups', { body });
const readByUrl = (name: InstanceName, url: string) => call(name, `/v1/rooms/group/${encodeURIComponent(url)}`);

test('two instances keep separate state: the same url is free in each, and each holds only its own', async () => {
  const body = groupBody();
  const [a, b] = [await create('faithful', body), await create('large-ids', body)];
  expect([a.status, b.status]).toEqual([201, 201]);
  expect(a.json!.data.id).not.toBe(b.json!.data.id);
  expect(
    host.api
      .instance('faithful')
      .groups()
      .filter((g) => g.url === body.url),
  ).toHaveLength(1);
  expect(
    host.api
      .instance('large-ids')
      .groups()
      .filter((g) => g.url === body.url),
  ).toHaveLength(1);
  expect(host.api.groups()).toEqual([]);
});

test('one access token from the code flow works for every instance', async () => {
  const { code, verifier } = await approvedCode(host.origin);
  const token = String((await exchange(host.origin, { code, code_verifier: verifier })).json.access_token);
  const names: InstanceName[] = ['faithful', 'id-as-string', 'gzip'];
  const read = (name: InstanceName) => call(name, '/v1/rooms/group/nothing-here', { token });
  const statuses = await Promise.all(names.map((name) => read(name).then((r) => r.status)));
  expect(statuses).toEqual([404, 404, 404]);
  const headers = { 'x-auth-token': token, 'x-client-id': CLIENT };
  const root = await fetch(`${host.origin}/quran-reflect/v1/rooms/1`, { headers });
  expect(root.status).toBe(404);
});

// ---- the newer faults ----------------------------------------------------------------------------------

test('optional-fields-required: a create without public is refused; the faithful API accepts it', async () => {
  const { public: _, ...withoutPublic } = groupBody();
  expect((await create('optional-fields-required', withoutPublic)).status).toBe(400);
  expect((await create('faithful', withoutPublic)).status).toBe(201);
});

test('diacritics-stripped: Arabic marks are gone from the echo and the read', async () => {
  const body = groupBody({ name: 'بِسْمِ ٱللَّهِ', description: 'ذَٰلِكَ ٱلْكِتَٰبُ' });
  const created = await create('diacritics-stripped', body);
  const read = await readByUrl('diacritics-stripped', body.url);
  for (const room of [created.json!.data, read.json!])
    expect([room.name, room.description]).toEqual(['بسم ٱلله', 'ذلك ٱلكتب']);
});

test('astral-replaced: emoji become U+FFFD in the echo and the read', async () => {
  const body = groupBody({ name: 'Study 📖 circle', description: 'Weekly 🌙' });
  const created = await create('astral-replaced', body);
  const read = await readByUrl('astral-replaced', body.url);
  for (const room of [created.json!.data, read.json!])
    expect([room.name, room.description]).toEqual(['Study \uFFFD circle', 'Weekly \uFFFD']);
});

test('duplicate-race: concurrent creates for one url all succeed, the url points to the last; then 400', async () => {
  const url = freshUrl();
  const race = (i: number) => create('duplicate-race', groupBody({ url, name: `Racer ${i}` }));
  const answers = await Promise.all([1, 2, 3].map(race));
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
  const last = Math.max(...answers.map((a) => a.json!.data.id as number));
  expect((await readByUrl('duplicate-race', url)).json!.id).toBe(last);
  expect((await create('duplicate-race', groupBody({ url }))).status).toBe(400);
});

test('the faithful API under the same race: exactly one create for a url succeeds, the others get 400', async () => {
  const url = freshUrl();
  const answers = await Promise.all([1, 2, 3].map(() => create('faithful', groupBody({ url }))));
  expect(answers.map((a) => a.status).sort()).toEqual([201, 400, 400]);
});

test('mass-assignment-owner: the body names the owner; the faithful API ignores it', async () => {
  const created = await create('mass-assignment-owner', groupBody({ ownerId: 'user-mallory' }));
  expect(created.json!.data).toMatchObject({ ownerId: 'user-mallory', isOwner: false });
  expect((await create('faithful', groupBody({ ownerId: 'user-mallory' }))).json!.data.ownerId).toBe('user-spec');
});

test('mass-assignment-flags: the body sets what the server owns, in the echo and the read', async () => {
  const owned = {
    isVerified: true,
    isActive: false,
    roomType: 'official',
    postsCount: 99,
    membersCount: 1000,
    isAdmin: false,
    isMember: false,
  };
  const body = groupBody(owned);
  expect((await create('mass-assignment-flags', body)).json!.data).toMatchObject(owned);
  expect((await readByUrl('mass-assignment-flags', body.url)).json).toMatchObject(owned);
  const ignored = (await create('faithful', groupBody(owned))).json!.data;
  expect(ignored).toMatchObject({ isVerified: false, postsCount: 0, isAdmin: true });
});

// ---- the newer variants -----------------------------------------------------------------------------------

test('unknown-fields-refused: a body with an undocumented field is refused and stores nothing', async () => {
  const body = groupBody({ tags: ['x'] });
  expect((await create('unknown-fields-refused', body)).status).toBe(400);
  expect((await readByUrl('unknown-fields-refused', body.url)).status).toBe(404);
  expect((await create('unknown-fields-refused', groupBody())).status).toBe(201);
});

test('omitted-flags-true: omitted public and hideFollowJoinButton are stored as true', async () => {
  const { public: _p, hideFollowJoinButton: _h, ...bare } = groupBody();
  const flags = { isPublic: true, hideFollowJoinButton: true };
  expect((await create('omitted-flags-true', bare)).json!.data).toMatchObject(flags);
  expect((await readByUrl('omitted-flags-true', bare.url)).json).toMatchObject(flags);
});

test('limits-utf16: 26 emoji (52 UTF-16 units) are over the name limit; the faithful API counts 26', async () => {
  const name = '🌙'.repeat(26);
  expect((await create('limits-utf16', groupBody({ name }))).status).toBe(400);
  expect((await create('faithful', groupBody({ name }))).status).toBe(201);
});

test('nfc-normalised: a decomposed name is answered and stored composed', async () => {
  const body = groupBody({ name: 'Cafe\u0301', description: 'A\u030A' });
  const created = await create('nfc-normalised', body);
  expect([created.json!.data.name, created.json!.data.description]).toEqual(['Caf\u00E9', '\u00C5']);
  expect((await readByUrl('nfc-normalised', body.url)).json!.name).toBe('Caf\u00E9');
});
