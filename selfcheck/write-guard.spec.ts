/**
 * The production write guard (fixtures/contract/write-guard.ts) cannot be talked out of its job: no
 * create that a server could accept reaches production without PRODUCTION_ALLOW_WRITES, and none
 * that could make a public or unmarked group with it. The guard is pure, so every path, encoding
 * and method is a unit case; the forwarder around it is started in-process for what only it does.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { authModes, isCredentialed } from '../fixtures/contract/credentials';
import { NAME_PREFIX, URL_PREFIX } from '../fixtures/contract/data';
import {
  acceptable,
  type GuardPolicy,
  type GuardRequest,
  normalisedApiPath,
  writeGuard,
} from '../fixtures/contract/write-guard';
import { CALL_HEADER } from '../fixtures/harness/proxy/forwarder';
import { API_BASE_PATH } from '../reference-api/server';
import { type CredentialProxy, expect, type ServedApi, test } from './fixtures';

const readOnly: GuardPolicy = { environment: 'production', allowWrites: false, privateOnly: true };
const withWrites: GuardPolicy = { ...readOnly, allowWrites: true };
const body = (o: object = {}) =>
  JSON.stringify({ name: `${NAME_PREFIX}guard`, url: `${URL_PREFIX}guard-1`, public: false, ...o });
const create = (o: Partial<GuardRequest> = {}): GuardRequest => ({
  method: 'POST',
  apiPath: '/v1/rooms/groups',
  contentType: 'application/json',
  credentialed: true,
  body: Buffer.from(body()),
  ...o,
});

const disguisedCreates: [string, Partial<GuardRequest>][] = [
  ['a valid private body', {}],
  ['a trailing slash', { apiPath: '/v1/rooms/groups/' }],
  ['a double slash', { apiPath: '/v1/rooms//groups' }],
  ['a dot segment', { apiPath: '/v1/rooms/./groups' }],
  ['a dot-dot segment', { apiPath: '/v1/rooms/x/../groups' }],
  ['a percent-encoded letter', { apiPath: '/v1/rooms/group%73' }],
  ['a doubly encoded letter', { apiPath: '/v1/rooms/%2567roups' }],
  ['an upper-case path', { apiPath: '/V1/Rooms/Groups' }],
  ['a query string', { apiPath: '/v1/rooms/groups?x=1' }],
  ['a backslash', { apiPath: '/v1\\rooms\\groups' }],
  ['the method PUT', { method: 'PUT' }],
  ['a gzip body', { contentEncoding: 'gzip', body: gzipSync(body()) }],
  [
    'a form body',
    { contentType: 'application/x-www-form-urlencoded', body: Buffer.from(`name=${NAME_PREFIX}f&url=${URL_PREFIX}f`) },
  ],
  ['JSON sent as text/plain', { contentType: 'text/plain' }],
  ['JSON with a byte order mark', { body: Buffer.from(`\uFEFF${body()}`) }],
  ['undocumented fields', { body: Buffer.from(body({ owner: 'x', tags: [] })) }],
  // A server may take null in an optional field as the field left out (class-validator's @IsOptional() does).
  [
    'null in every optional field',
    { body: Buffer.from(body({ description: null, public: null, hideFollowJoinButton: null })) },
  ],
  ['description: null', { body: Buffer.from(body({ description: null })) }],
  ['public: null and an undocumented field', { body: Buffer.from(body({ public: null, owner: 'x' })) }],
];
for (const [what, o] of disguisedCreates)
  test(`without the opt-in, a production create with ${what} is kept on the machine`, () => {
    expect(writeGuard(readOnly, create(o))).toMatch(/PRODUCTION_ALLOW_WRITES|cannot vet/);
  });

test('the path is seen as a lenient server would route it', () => {
  const paths = [
    '/v1/rooms/groups/',
    '/v1/rooms//groups',
    '/v1/rooms/./groups',
    '/v1/./rooms/x/../groups',
    '/V1/ROOMS/GROUP%53',
    '/v1/rooms/groups#x',
  ];
  expect(paths.map(normalisedApiPath)).toEqual(paths.map(() => '/v1/rooms/groups'));
  expect(normalisedApiPath('/v1/rooms/group/qa-contract-x')).toBe('/v1/rooms/group/qa-contract-x');
});

test('without the opt-in, the 400 checks still go: an invalid body that could only make a private test group', () => {
  const tooLong = create({ body: Buffer.from(body({ name: `${NAME_PREFIX}${'x'.repeat(51)}` })) });
  expect(writeGuard(readOnly, tooLong)).toBeUndefined();
  expect(writeGuard(readOnly, create({ body: Buffer.from(body({ public: 0 })) }))).toBeUndefined();
  // null in a required field is invalid on every server that honours the documentation, optional nulls or not.
  for (const o of [{ name: null }, { url: null, description: null }, { name: 123, hideFollowJoinButton: null }])
    expect(writeGuard(readOnly, create({ body: Buffer.from(body(o)) })), JSON.stringify(o)).toBeUndefined();
});

test('a body is acceptable when valid once the nulls of its optional fields are dropped, by the documented schema', () => {
  const valid = { name: `${NAME_PREFIX}x`, url: `${URL_PREFIX}x` };
  expect(
    [valid, { ...valid, description: null }, { ...valid, hideFollowJoinButton: null, extra: 1 }].map(acceptable),
  ).toEqual([true, true, true]);
  const refused = [{ ...valid, name: null }, { url: valid.url }, { ...valid, public: 'null' }, [valid], null, 'x'];
  expect(refused.map(acceptable)).toEqual(refused.map(() => false));
});

test('a request without the real token is never held back, nor a read', () => {
  expect(authModes.filter(isCredentialed)).toEqual(['valid', 'no-client-id']);
  expect(
    writeGuard(readOnly, create({ credentialed: false, body: Buffer.from(body({ public: true })) })),
  ).toBeUndefined();
  expect(writeGuard(readOnly, create({ method: 'GET', apiPath: '/v1/rooms/group/qa-contract-x' }))).toBeUndefined();
});

const unsafeBodies: [string, string][] = [
  ['public: "yes"', body({ public: 'yes' })],
  ['public left out and an empty name', body({ public: undefined, name: '' })],
  ['a url that is not test data', body({ url: 12345 })],
  ['a name that is not test data', body({ name: 'x'.repeat(51) })],
  ['a list holding public: 1', `[${body({ public: 1 })}]`],
];
for (const [what, unsafe] of unsafeBodies)
  test(`a production create with ${what} is kept, opt-in or not: it could make a public or unmarked group`, () => {
    for (const policy of [readOnly, withWrites])
      expect(writeGuard(policy, create({ body: Buffer.from(unsafe) }))).toMatch(/groups must have public: false/);
  });

test('with the opt-in, only private test groups leave the machine', () => {
  expect(writeGuard(withWrites, create())).toBeUndefined();
  const publicOnes: Partial<GuardRequest>[] = [
    { body: Buffer.from(body({ public: true })) },
    { body: Buffer.from(body({ public: undefined })) },
    { apiPath: '/v1/rooms/./groups', body: Buffer.from(body({ public: true })) },
    { contentEncoding: 'gzip', body: gzipSync(body({ public: true })) },
  ];
  for (const o of publicOnes) expect(writeGuard(withWrites, create(o))).toMatch(/public: false/);
});

test('prelive and local are not guarded: public groups are how create-echo is proven there', () => {
  const prelive: GuardPolicy = { environment: 'prelive', allowWrites: true, privateOnly: false };
  expect(writeGuard(prelive, create({ body: Buffer.from(body({ public: true })) }))).toBeUndefined();
});

// ---- the forwarder ------------------------------------------------------------------------------

/** One raw request, the way any process on the machine could send it; `route` is sent as the request target, as is. */
function send(
  origin: string,
  route: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const { hostname, port } = new URL(origin);
  const headers = { 'content-type': 'application/json', ...o.headers };
  return new Promise<number>((resolve, reject) => {
    const req = http.request({ hostname, port, path: route, method: o.method ?? 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const grant = { sub: 'user-guard-qa', clientId: 'qa-client', scope: 'room.create room.read' };
/** The credential proxy of a worker, for production at `api`. */
const production = (api: ServedApi, proxy: CredentialProxy) =>
  proxy('production', `${api.origin}${API_BASE_PATH}`, api.issueAccessToken(grant));

test('the forwarder sends nothing without the id of a call registered in its own process, and each id once', async ({
  referenceApi,
  credentialProxy,
}) => {
  const api = await referenceApi();
  const forwarder = await production(api, credentialProxy);
  const read = '/v1/rooms/group/qa-contract-nothing';
  const id = forwarder.register({ auth: 'valid', test: 'self-test' });
  const statuses = [
    await send(forwarder.origin, read, { method: 'GET' }),
    await send(forwarder.origin, read, { method: 'GET', headers: { [CALL_HEADER]: 'an-id-nobody-registered' } }),
    await send(forwarder.origin, read, { method: 'GET', headers: { [CALL_HEADER]: id } }),
    await send(forwarder.origin, read, { method: 'GET', headers: { [CALL_HEADER]: id } }),
  ];
  expect(statuses).toEqual([403, 403, 404, 403]);
  expect(api.stats.requests).toBe(1);
});

test('the forwarder puts every create through the guard: without the opt-in, production gets none', async ({
  referenceApi,
  credentialProxy,
}) => {
  const api = await referenceApi();
  const forwarder = await production(api, credentialProxy);
  const id = forwarder.register({ auth: 'valid', test: 'self-test' });
  const status = await send(forwarder.origin, '/v1/rooms/groups', { headers: { [CALL_HEADER]: id }, body: body() });
  expect(forwarder.take(id)).toMatchObject({
    kind: 'blocked',
    reason: expect.stringContaining('PRODUCTION_ALLOW_WRITES'),
  });
  expect(status).toBe(403);
  expect(api.stats.requests).toBe(0);
});

test('the forwarder never leaves the API: a path naming another host is refused', async ({
  referenceApi,
  credentialProxy,
}) => {
  const api = await referenceApi();
  // A base URL without a path: `//host/...` would be another host.
  const forwarder = await credentialProxy('production', api.origin);
  const id = forwarder.register({ auth: 'valid', test: 'self-test' });
  const status = await send(forwarder.origin, '//evil.example/v1/rooms/1', {
    method: 'GET',
    headers: { [CALL_HEADER]: id },
  });
  expect(forwarder.take(id)).toEqual({ kind: 'blocked', reason: 'the request path leaves the API base URL' });
  expect(status).toBe(400);
});

test('the forwarder drops the headers some frameworks honour to change the method', async ({
  referenceApi,
  credentialProxy,
}) => {
  const api = await referenceApi();
  const forwarder = await production(api, credentialProxy);
  const id = forwarder.register({ auth: 'valid', test: 'self-test' });
  await send(forwarder.origin, '/v1/rooms/1', {
    method: 'GET',
    headers: { [CALL_HEADER]: id, 'x-http-method-override': 'POST' },
  });
  expect(api.stats.byRoute).toEqual({ 'read-by-id': 1 });
});
