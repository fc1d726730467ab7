/**
 * Issue 4, points 1 and 2: what a run leaves in an environment, and the ledger of it. Groups
 * cannot be deleted through the API, so every one counts: a full run makes 2, a smoke run 1;
 * production makes none without PRODUCTION_ALLOW_WRITES, and only private, recognisable ones with
 * it; the write guard of the credential proxy cannot be talked out of that; the ledger lists every
 * group, also when tests fail.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { startAuthProxy, SUITE_HEADERS } from '../fixtures/auth-proxy';
import { NAME_PREFIX, URL_PREFIX } from '../fixtures/data';
import { readEnvironment, type SuiteEnvironment } from '../fixtures/env';
import { Ledger, LEDGER_FILE, LedgerEntry } from '../fixtures/ledger';
import { createReferenceApi, listen, type ReferenceApiStats } from '../reference-api/server';
import { runSuite, type SuiteRun } from './harness';
import { pointAt, tempDir } from './scan';

const ledgerOf = (run: SuiteRun): LedgerEntry[] => LedgerEntry.array().parse(JSON.parse(fs.readFileSync(path.join(run.outputDir, LEDGER_FILE), 'utf8')));
const statsOf = (run: SuiteRun): ReferenceApiStats => JSON.parse(fs.readFileSync(path.join(run.outputDir, 'reference-api-stats.json'), 'utf8'));
const grant = { sub: 'user-production-qa', clientId: 'prod-client', scope: 'room.create room.read offline_access' };

test('a full run creates 2 groups and a smoke run 1, by the reference API and by the ledger', async () => {
  const [full, smoke] = await Promise.all([
    runSuite('footprint-full', ['--project=local']),
    runSuite('footprint-smoke', ['--project=local', '--grep', '@smoke'], { QR_WORKERS: '1' }),
  ]);
  for (const [name, run, expected] of [['full', full, 2], ['smoke', smoke, 1]] as const) {
    expect(run.code, `${name}: ${run.stdout.slice(-600)}`).toBe(0);
    const made = statsOf(run).groupsCreated;
    const listed = ledgerOf(run);
    test.info().annotations.push({ type: 'footprint', description: `${name} run: ${made} group(s) created (reference API), ${listed.length} in the ledger` });
    expect(made, `${name}: groups created`).toBeLessThanOrEqual(name === 'full' ? 3 : 1);
    expect(made).toBe(expected);
    expect(listed.map((e) => e.status)).toEqual(Array(expected).fill('created'));
    // Every test that made a group points to the ledger in the reports.
    const pointers = (run.report?.tests ?? []).flatMap((t) => t.annotations).filter((a) => a.type === 'created-group');
    expect(pointers.length).toBe(expected);
    expect(pointers.every((a) => a.description?.includes(LEDGER_FILE))).toBe(true);
    expect(fs.readFileSync(path.join(run.outputDir, 'junit.xml'), 'utf8')).toContain(LEDGER_FILE);
  }
});

test('a self-test never reaches a live environment: its child runs inherit no PRELIVE_ variable and read no .env', async () => {
  const planted = { PRELIVE_CLIENT_ID: 'from-the-caller', PRELIVE_ACCESS_TOKEN: 'from-the-caller', PRELIVE_API_BASE_URL: 'http://127.0.0.1:9/quran-reflect' };
  // A developer's .env, where the child would read it (its working directory).
  const home = tempDir('dotenv');
  fs.writeFileSync(path.join(home, '.env'), Object.entries(planted).map(([k, v]) => `${k}=${v}`).join('\n'));
  const before = Object.fromEntries(Object.keys(planted).map((k) => [k, process.env[k]]));
  Object.assign(process.env, planted);
  let inherited: SuiteRun;
  try {
    inherited = await runSuite('hermetic-inherited', ['--project=prelive', '--list']);
  } finally {
    for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  const dotenv = await runSuite('hermetic-dotenv', ['--project=prelive', '--list'], {}, { cwd: home });
  for (const [name, run] of Object.entries({ inherited, dotenv })) {
    expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(2);
    expect(run.stderr, name).toContain('The prelive environment is not configured');
  }
});

test('production without PRODUCTION_ALLOW_WRITES creates nothing: write tests skip with that reason, 400/401 checks pass', async () => {
  const api = createReferenceApi({ clients: { [grant.clientId]: 'prod-secret-000000' } });
  const server = await listen(api);
  try {
    const run = await runSuite('footprint-production-readonly', ['--project=production'], {
      ...pointAt('PRODUCTION', server.origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }),
      PRODUCTION_ALLOW_WRITES: undefined,
    });
    const tests = run.report!.tests.filter((t) => t.projectName === 'production');
    expect(run.code, run.stdout.slice(-800)).toBe(0);
    expect(api.stats.groupsCreated).toBe(0);
    expect(ledgerOf(run)).toEqual([]);
    const skipped = tests.filter((t) => t.status === 'skipped');
    const reasons = skipped.map((t) => t.annotations.find((a) => a.type === 'skip')?.description ?? '');
    expect(skipped.length).toBeGreaterThanOrEqual(10); // every test of create-group.spec.ts, at least
    expect(reasons.filter((r) => !r.includes('PRODUCTION_ALLOW_WRITES'))).toEqual([]);
    const passed = tests.filter((t) => t.status === 'expected').map((t) => t.title);
    expect(passed.filter((t) => /with 400/.test(t)).length).toBeGreaterThanOrEqual(10);
    expect(passed.filter((t) => /with 401/.test(t)).length).toBeGreaterThanOrEqual(4);
    expect(tests.filter((t) => t.status === 'unexpected')).toEqual([]);
    // GO covers the refusals only: the verdict names the create clauses it could not check.
    const summary = fs.readFileSync(path.join(run.outputDir, 'contract-summary.md'), 'utf8');
    expect(summary).toMatch(/^- production: \*\*GO\*\* .*, but \d+ clause\(s\) not verified \(all their tests skipped\): .*create-201.*read-by-url/m);
    expect(run.stdout).toMatch(/production: GO, but \d+ clause\(s\) not verified/);
    test.info().annotations.push({ type: 'footprint', description: `production without writes: 0 groups, ${passed.length} passed, ${skipped.length} skipped` });
  } finally {
    await server.close();
  }
});

test('production without writes, against servers that accept what they must refuse: what they make is private, test data, and in the ledger', async () => {
  // The 400 checks still go to production; a lenient server turns some of them into groups.
  const lenient = (['wrong-types-coerced', 'limits-not-enforced', 'empty-name-accepted'] as const).map((fault) => createReferenceApi({ fault, clients: {} }));
  const servers = await Promise.all(lenient.map(listen));
  try {
    const runs = await Promise.all(lenient.map((api, i) => runSuite(`footprint-production-lenient-${i}`, ['--project=production'], {
      ...pointAt('PRODUCTION', servers[i].origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }),
      PRODUCTION_ALLOW_WRITES: undefined, QR_WORKERS: '1',
    })));
    runs.forEach((run, i) => {
      const made = lenient[i].groups();
      expect(run.code, `${i}: the fault is caught`).not.toBe(0);
      expect(made.length, `${i}: the lenient server made groups`).toBeGreaterThan(0);
      for (const g of made) {
        expect(g.isPublic, `${i}: ${g.url}`).toBe(false);
        expect(g.url.startsWith(URL_PREFIX), `${i}: ${g.url}`).toBe(true);
      }
      expect(ledgerOf(run).map((e) => e.url).sort(), `${i}: ledger`).toEqual(made.map((g) => g.url).sort());
    });
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('production with PRODUCTION_ALLOW_WRITES: private, recognisable groups; the ledger lists them, also when tests fail', async () => {
  const secret = 'prod-secret-000001';
  const good = createReferenceApi({ clients: { [grant.clientId]: secret } });
  const leaky = createReferenceApi({ fault: 'public-ignored', clients: { [grant.clientId]: secret } });
  const [goodAt, leakyAt] = await Promise.all([listen(good), listen(leaky)]);
  try {
    const env = (origin: string, api: typeof good) => ({
      ...pointAt('PRODUCTION', origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }),
      PRODUCTION_ALLOW_WRITES: 'true',
    });
    const [run, failing] = await Promise.all([
      runSuite('footprint-production-writes', ['--project=production'], env(goodAt.origin, good)),
      runSuite('footprint-production-public-ignored', ['--project=production'], { ...env(leakyAt.origin, leaky), QR_WORKERS: '1' }),
    ]);
    expect(run.code, run.stdout.slice(-800)).toBe(0);
    expect(good.stats.groupsCreated).toBe(2);
    const listed = ledgerOf(run);
    expect(listed).toHaveLength(2);
    const token = good.issueAccessToken(grant);
    for (const e of listed) {
      expect(e).toMatchObject({ environment: 'production', status: 'created', public: false, visibility: 'private', requestedPublic: false });
      expect(e.name?.startsWith(NAME_PREFIX.trim())).toBe(true);
      expect(e.url?.startsWith(URL_PREFIX)).toBe(true);
      expect(e.test).toBeTruthy();
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      // As the API holds it: private.
      const room = await fetch(`${goodAt.origin}/quran-reflect/v1/rooms/${e.id}`, { headers: { 'x-auth-token': token, 'x-client-id': grant.clientId } }).then((r) => r.json());
      expect(room).toMatchObject({ isPublic: false, url: e.url });
    }
    // A server that makes private groups public: the run fails, and the ledger says what really exists.
    expect(failing.code).not.toBe(0);
    expect(failing.report!.tests.some((t) => t.status === 'unexpected' && t.tags.includes('@create-echo'))).toBe(true);
    const leaked = ledgerOf(failing);
    expect(leaked).toHaveLength(leaky.stats.groupsCreated);
    expect(leaked.map((e) => [e.status, e.visibility, e.requestedPublic])).toEqual([['created', 'public', false], ['created', 'public', false]]);
  } finally {
    await Promise.all([goodAt.close(), leakyAt.close()]);
  }
});

/** One raw request to the proxy, the way any local process could send it. */
function send(origin: string, route: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}) {
  return new Promise<{ status: number; blocked?: string }>((resolve, reject) => {
    const req = http.request(`${origin}${route}`, { method: o.method ?? 'POST', headers: { 'content-type': 'application/json', ...o.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, blocked: res.headers[SUITE_HEADERS.blocked] as string | undefined }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

test('the write guard cannot be bypassed: no create reaches production without opt-in, nor a public one with it', async () => {
  const api = createReferenceApi({ clients: {} });
  const server = await listen(api);
  const ledgerDir = tempDir('ledger');
  const config = readEnvironment('production', { ...pointAt('PRODUCTION', server.origin, { clientId: grant.clientId, accessToken: api.issueAccessToken(grant) }) });
  if (!config.ok) throw new Error(config.problems.join('; '));
  const session = { accessToken: config.env.accessToken!, userId: grant.sub, via: 'access-token' as const };
  const proxies: Awaited<ReturnType<typeof startAuthProxy>>[] = [];
  const start = async (env: SuiteEnvironment) => { const p = await startAuthProxy({ env, session, ledger: new Ledger(ledgerDir, env.name) }); proxies.push(p); return p; };
  try {
    const readonly = await start(config.env);
    const body = (o: object = {}) => JSON.stringify({ name: `${NAME_PREFIX}guard`, url: `${URL_PREFIX}guard-${Math.random().toString(36).slice(2, 10)}`, public: false, ...o });
    const o = readonly.origin;
    const attempts: [string, Promise<{ status: number; blocked?: string }>][] = [
      ['valid create', send(o, '/v1/rooms/groups', { body: body() })],
      ['without x-client-id (real token)', send(o, '/v1/rooms/groups', { headers: { [SUITE_HEADERS.auth]: 'no-client-id' }, body: body() })],
      ['trailing slash', send(o, '/v1/rooms/groups/', { body: body() })],
      ['double slash', send(o, '/v1/rooms//groups', { body: body() })],
      ['dot segment', send(o, '/v1/rooms/./groups', { body: body() })],
      ['dot-dot segment', send(o, '/v1/rooms/x/../groups', { body: body() })],
      ['percent-encoded', send(o, '/v1/rooms/group%73', { body: body() })],
      ['upper case', send(o, '/V1/Rooms/Groups', { body: body() })],
      ['query string', send(o, '/v1/rooms/groups?x=1', { body: body() })],
      ['PUT', send(o, '/v1/rooms/groups', { method: 'PUT', body: body() })],
      ['gzip body', send(o, '/v1/rooms/groups', { headers: { 'content-encoding': 'gzip' }, body: gzipSync(body()) })],
      ['form body', send(o, '/v1/rooms/groups', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `name=${NAME_PREFIX}form&url=${URL_PREFIX}form` })],
      ['text/plain JSON', send(o, '/v1/rooms/groups', { headers: { 'content-type': 'text/plain' }, body: body() })],
      ['JSON with a BOM', send(o, '/v1/rooms/groups', { body: `\uFEFF${body()}` })],
      ['extra fields', send(o, '/v1/rooms/groups', { body: body({ owner: 'x', tags: [] }) })],
    ];
    const results = await Promise.all(attempts.map(async ([what, p]) => [what, await p] as const));
    expect(results.filter(([, r]) => r.status !== 403 || !r.blocked).map(([w, r]) => `${w}: ${r.status}`)).toEqual([]);

    // Not a request of this worker, or one that tries to leave the API: refused, nothing sent.
    const escapes = await Promise.all([
      send(o.replace(/\/k-[0-9a-f]+$/, ''), '/v1/rooms/groups', { body: body() }),
      send(o.replace(/\/k-[0-9a-f]+$/, '/k-0000'), '/v1/rooms/groups', { body: body() }),
      send(o, '/v1/rooms/groups', { headers: { [SUITE_HEADERS.auth]: 'VALID' }, body: body() }),
      send(o, '/v1/rooms/groups', { headers: { [SUITE_HEADERS.auth]: 'bogus' }, body: body() }),
      send(o, '/../../oauth2/token', { body: 'grant_type=refresh_token' }),
      send(o, '//evil.example/v1/rooms/groups', { body: body() }),
      send(o, '/v1/rooms/1', { method: 'GET', headers: { 'x-http-method-override': 'POST' } }),
    ]);
    // (`/../..` is resolved by the client, so it lacks the key: 403. `//evil.example/...` stays under
    // the API base URL: 404 from the API, not a request elsewhere.)
    expect(escapes.map((r) => r.status)).toEqual([403, 403, 400, 400, 403, 404, 404]);
    // With an API base URL without a path, `//host/...` would be another host: refused.
    const bare = await start({ ...config.env, apiBaseUrl: server.origin });
    expect((await send(bare.origin, '//evil.example/v1/rooms/groups', { method: 'GET' })).status).toBe(400);
    // A 400 check still goes: an invalid body with the real token.
    expect((await send(o, '/v1/rooms/groups', { body: body({ name: `${NAME_PREFIX}${'x'.repeat(51)}` }) })).status).toBe(400);
    // Unless a lenient server could make it a public group, or one not marked as test data.
    const unsafe = await Promise.all([
      send(o, '/v1/rooms/groups', { body: body({ public: 'yes' }) }),
      send(o, '/v1/rooms/groups', { body: body({ public: undefined, name: '' }) }),
      send(o, '/v1/rooms/groups', { body: body({ url: 12345 }) }),
      send(o, '/v1/rooms/groups', { body: body({ name: 'x'.repeat(51) }) }),
      send(o, '/v1/rooms/groups', { body: `[${body({ public: 1 })}]` }),
    ]);
    expect(unsafe.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(api.stats.groupsCreated).toBe(0);
    expect(api.stats.byRoute.create).toBe(1);
    expect(api.stats.byRoute.token).toBeUndefined();

    // With the opt-in: private creates only.
    const writes = await start({ ...config.env, allowWrites: true });
    const w = writes.origin;
    const publicOnes = await Promise.all([
      send(w, '/v1/rooms/groups', { body: body({ public: true }) }),
      send(w, '/v1/rooms/groups', { body: body({ public: undefined }) }),
      send(w, '/v1/rooms/groups', { body: body({ public: 'yes' }) }),
      send(w, '/v1/rooms/./groups', { headers: { [SUITE_HEADERS.auth]: 'no-client-id' }, body: body({ public: true }) }),
      send(w, '/v1/rooms/groups', { headers: { 'content-encoding': 'gzip' }, body: gzipSync(body({ public: true })) }),
    ]);
    expect(publicOnes.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(api.stats.groupsCreated).toBe(0);
    expect((await send(w, '/v1/rooms/groups', { body: body() })).status).toBe(201);
    expect(api.stats.groupsCreated).toBe(1);
  } finally {
    for (const p of proxies) await p.close();
    await server.close();
  }
});
