/**
 * Issue 4, points 4 and 5: the suite copes with an API that rate-limits, hangs or refuses its
 * credentials, with a misconfiguration, and with running twice at once. Each case ends in bounded
 * time with one clear message.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { RETRY_POLICY } from '../fixtures/auth-proxy';
import { LEDGER_FILE, LedgerEntry } from '../fixtures/ledger';
import { signJwt } from '../reference-api/jwt';
import { createReferenceApi, listen } from '../reference-api/server';
import { runSuite, type SuiteRun } from './harness';
import { occurrences, pointAt, scanRun, type Secret } from './scan';

const ledgerOf = (run: SuiteRun): LedgerEntry[] => LedgerEntry.array().parse(JSON.parse(fs.readFileSync(path.join(run.outputDir, LEDGER_FILE), 'utf8')));
const errorsOf = (run: SuiteRun) => (run.report?.tests ?? []).flatMap((t) => t.errors);
const statusCount = (run: SuiteRun, status: string) => (run.report?.tests ?? []).filter((t) => t.status === status).length;
const figure = (description: string) => test.info().annotations.push({ type: 'figure', description });

/** A token any server of these tests accepts as a JWT with `sub` (they never check it). */
const someJwt = () => {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: 'user-resilience', client_id: 'resilience', scope: 'room', iat: now, exp: now + 3600, jti: 'x' }, 'resilience-key');
};

/** A small API that answers every request with `answer`, or never (`hang`); it counts requests. */
async function tinyServer(answer: ((res: http.ServerResponse) => void) | 'hang') {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (answer !== 'hang') req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests: () => requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
const localAt = (origin: string) => pointAt('LOCAL', origin, { clientId: 'resilience', accessToken: someJwt() });

test('429: retried after Retry-After within bounds (rate-limited variant passes; an API that always answers 429 fails fast, clearly)', async () => {
  const tooMany = (retryAfter: string) => tinyServer((res) => { res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/json' }); res.end('{"message":"Too Many Requests"}'); });
  const always = await tooMany('1');
  // Waits of 8 s: two of them outlast one request timeout (15 s), the third would pass the total.
  const slowly = await tooMany('8');
  try {
    const [variant, limited, patient] = await Promise.all([
      runSuite('resilience-rate-limited', ['--project=local'], { QR_REFERENCE_VARIANT: 'rate-limited' }),
      runSuite('resilience-always-429', ['--project=local'], { ...localAt(always.origin), QR_WORKERS: '1' }),
      runSuite('resilience-429-long-waits', ['--project=local'], { ...localAt(slowly.origin), QR_WORKERS: '1' }),
    ]);
    expect(variant.code, variant.stdout.slice(-800)).toBe(0);
    const retried = (variant.report?.tests ?? []).flatMap((t) => t.annotations).filter((a) => a.type === 'rate-limited');
    expect(retried.length).toBeGreaterThan(0);

    expect(limited.code).not.toBe(0);
    // One request, RETRY_POLICY.attempts sends, waits of 1 s between them; every later request not sent.
    expect(always.requests()).toBe(RETRY_POLICY.attempts);
    expect(statusCount(limited, 'unexpected')).toBe(1);
    const [error] = errorsOf(limited);
    expect(error).toContain('was rate-limited');
    expect(error).toContain(`gave up after ${RETRY_POLICY.attempts} attempts`);
    expect(limited.ms).toBeLessThan(RETRY_POLICY.totalWaitMs + 20_000);
    figure(`always 429: run failed after ${(limited.ms / 1000).toFixed(1)} s, ${always.requests()} requests; rate-limited variant passed with ${retried.length} retried request(s)`);

    // Waiting out 429s is not "no answer": the total wait bound ends it, with the rate-limit message.
    expect(patient.code).not.toBe(0);
    expect(slowly.requests()).toBe(3);
    expect(statusCount(patient, 'unexpected')).toBe(1);
    const [waitError] = errorsOf(patient);
    expect(waitError).toContain('was rate-limited');
    expect(waitError).toContain(`would exceed the suite's total of ${RETRY_POLICY.totalWaitMs} ms`);
    figure(`429 with Retry-After 8: run failed after ${(patient.ms / 1000).toFixed(1)} s, ${slowly.requests()} requests`);
  } finally {
    await Promise.all([always.close(), slowly.close()]);
  }
});

test('an API that does not answer: the run ends in bounded time, with one message naming the request (default timeout)', async () => {
  const silent = await tinyServer('hang');
  try {
    // Default settings: QR_REQUEST_TIMEOUT_MS 15000, 2 workers.
    const [createHangs, everything] = await Promise.all([
      runSuite('resilience-create-hangs', ['--project=local'], { QR_REFERENCE_FAULT: 'create-hangs', QR_REQUEST_TIMEOUT_MS: undefined }),
      runSuite('resilience-all-hang', ['--project=local'], { ...localAt(silent.origin), QR_REQUEST_TIMEOUT_MS: undefined }),
    ]);
    for (const [name, run] of Object.entries({ createHangs, everything })) {
      expect(run.code, name).not.toBe(0);
      expect(run.ms, `${name}: whole run`).toBeLessThan(60_000);
      const failed = (run.report?.tests ?? []).filter((t) => t.status === 'unexpected');
      // One failure per request that was in flight when the API stopped answering (one per worker at most).
      expect(failed.length, `${name}: failures`).toBeGreaterThanOrEqual(1);
      expect(failed.length, `${name}: failures`).toBeLessThanOrEqual(2);
      for (const t of failed) expect(t.errors.join('\n')).toMatch(/got no answer within 15000 ms \(QR_REQUEST_TIMEOUT_MS\)/);
      const skips = (run.report?.tests ?? []).flatMap((t) => t.annotations).filter((a) => a.type === 'skip').map((a) => a.description ?? '');
      expect(statusCount(run, 'skipped'), `${name}: later tests skipped`).toBeGreaterThanOrEqual(name === 'everything' ? 25 : 1);
      expect(skips.filter((s) => !s.startsWith('Not '))).toEqual([]);
      figure(`${name}: run reported after ${(run.ms / 1000).toFixed(1)} s (request timeout 15 s), ${failed.length} failed, ${statusCount(run, 'skipped')} skipped`);
    }
    // The create that got no answer is in the ledger, outcome unknown.
    expect(ledgerOf(createHangs).map((e) => e.status)).toEqual(['unknown']);
  } finally {
    await silent.close();
  }
});

test('an API that cannot be reached: one failure naming the base URL variable, the rest skipped, no group in the ledger', async () => {
  // A port that was just free: connections to it are refused.
  const gone = await tinyServer((res) => res.end());
  await gone.close();
  const run = await runSuite('resilience-unreachable', ['--project=local'], localAt(gone.origin));
  expect(run.code).not.toBe(0);
  const failed = (run.report?.tests ?? []).filter((t) => t.status === 'unexpected');
  expect(failed.length, 'failures: one per worker at most').toBeLessThanOrEqual(2);
  for (const t of failed) expect(t.errors.join('\n')).toMatch(/could not reach the API \(ECONNREFUSED for http:\/\/127\.0\.0\.1:\d+\): check LOCAL_API_BASE_URL/);
  expect(statusCount(run, 'skipped')).toBeGreaterThanOrEqual(25);
  expect(ledgerOf(run)).toEqual([]);
  figure(`unreachable API: reported after ${(run.ms / 1000).toFixed(1)} s, ${failed.length} failed, ${statusCount(run, 'skipped')} skipped`);
});

test('the token endpoint refusing (invalid_grant, invalid_client) stops the run with one message saying what to renew, and no secret', async () => {
  const clientId = 'refusing-client';
  const clientSecret = `refusing-secret-${Date.now()}`;
  const issued: string[] = [];
  const api = createReferenceApi({ clients: { [clientId]: clientSecret }, onTokenIssued: (t) => issued.push(t) });
  const server = await listen(api);
  try {
    const grant = { sub: 'user-refused', clientId, scope: 'room.create room.read offline_access' };
    const valid = api.issueRefreshToken(grant);
    const unknown = `rt_unknown${Date.now()}abcdefghijklmnop`;
    const wrongSecret = `wrong-secret-${Date.now()}`;
    const [grantRun, clientRun] = await Promise.all([
      runSuite('resilience-invalid-grant', ['--project=prelive'], pointAt('PRELIVE', server.origin, { clientId, clientSecret, refreshToken: unknown })),
      runSuite('resilience-invalid-client', ['--project=prelive'], pointAt('PRELIVE', server.origin, { clientId, clientSecret: wrongSecret, refreshToken: valid })),
    ]);
    const cases = [
      { name: 'invalid_grant', run: grantRun, renew: 'Renew PRELIVE_REFRESH_TOKEN' },
      { name: 'invalid_client', run: clientRun, renew: 'Check PRELIVE_CLIENT_ID and PRELIVE_CLIENT_SECRET' },
    ];
    const secrets: Secret[] = [clientSecret, unknown, wrongSecret, ...issued].map((value, i) => ({ label: `secret #${i}`, value }));
    for (const { name, run, renew } of cases) {
      expect(run.code, name).not.toBe(0);
      expect(statusCount(run, 'unexpected'), `${name}: one failure, the setup`).toBe(1);
      expect(statusCount(run, 'expected'), `${name}: nothing else ran`).toBe(0);
      // Printed with the failure, and repeated once in the run's closing verdict: never per test.
      expect(occurrences(run, `refused the refresh token: ${name}`), `${name}: one message`).toBeLessThanOrEqual(2);
      expect(occurrences(run, 'SuiteSetupError'), `${name}: one failure`).toBeLessThanOrEqual(2);
      expect(occurrences(run, renew), `${name}: says what to renew`).toBeGreaterThanOrEqual(1);
      expect(run.stdout).toMatch(/\d+ did not run/);
      const scan = scanRun(run, secrets);
      expect(scan.unreadable).toEqual([]);
      expect(scan.hits, `${name}: secrets in artifacts`).toEqual([]);
      figure(`${name}: ${(run.ms / 1000).toFixed(1)} s, 1 message, scan ${scan.files} files + ${scan.embedded} embedded`);
    }
    expect(api.stats.byRoute.create).toBeUndefined();
  } finally {
    await server.close();
  }
});

test('a misconfigured variable names itself: --project=prelive exits at once, non-zero', async () => {
  const base = { PRELIVE_CLIENT_ID: 'c', PRELIVE_ACCESS_TOKEN: someJwt() };
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['not a URL', { ...base, PRELIVE_API_BASE_URL: 'apis-prelive.quran.foundation/quran-reflect' }, /PRELIVE_API_BASE_URL is not an http\(s\) URL/],
    ['empty', { ...base, PRELIVE_OAUTH_BASE_URL: '' }, /PRELIVE_OAUTH_BASE_URL is set but empty/],
    ['empty client id', { ...base, PRELIVE_CLIENT_ID: '  ' }, /PRELIVE_CLIENT_ID is set but empty/],
    ['workers not a number', { ...base, QR_WORKERS: 'two' }, /QR_WORKERS must be a number of workers/],
  ];
  const runs = await Promise.all(cases.map(([name, env], i) => runSuite(`resilience-misconfig-${i}`, ['--project=prelive'], env).then((r) => [name, r] as const)));
  for (const [i, [name, run]] of runs.entries()) {
    expect(run.code, name).not.toBe(0);
    expect(run.stderr, name).toMatch(cases[i][2]);
    expect(run.stdout, `${name}: no test ran`).not.toMatch(/passed|failed/);
    expect(run.ms, name).toBeLessThan(15_000);
  }
});

test('an expired access token stops the run at its setup, with one message saying what to renew', async () => {
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  const expired = signJwt({ sub: 'user-resilience', client_id: 'resilience', scope: 'room', iat: hourAgo - 3600, exp: hourAgo, jti: 'x' }, 'resilience-key');
  const run = await runSuite('resilience-expired-token', ['--project=prelive'], pointAt('PRELIVE', 'http://127.0.0.1:9', { clientId: 'c', accessToken: expired }));
  expect(run.code).not.toBe(0);
  expect(statusCount(run, 'unexpected'), 'one failure, the setup').toBe(1);
  expect(statusCount(run, 'expected'), 'nothing else ran').toBe(0);
  expect(errorsOf(run).join('\n')).toMatch(/PRELIVE_ACCESS_TOKEN expired at \S+ \(60 min ago\)\. Access tokens last about an hour: obtain a new one/);
  expect(scanRun(run, [{ label: 'expired token', value: expired }]).hits).toEqual([]);
});

test('parallel-safe: --repeat-each=2 on 2 workers, and two runs at once against the same API, all pass without URL collisions', async () => {
  const api = createReferenceApi({ clients: {} });
  const server = await listen(api);
  try {
    const shared = () => pointAt('LOCAL', server.origin, { clientId: 'shared', accessToken: api.issueAccessToken({ sub: 'user-shared', clientId: 'shared', scope: 'room' }) });
    const [repeated, first, second] = await Promise.all([
      runSuite('parallel-repeat-each', ['--project=local', '--repeat-each=2', '--workers=2']),
      runSuite('parallel-run-a', ['--project=local'], { ...shared(), QR_WORKERS: '1' }),
      runSuite('parallel-run-b', ['--project=local'], { ...shared(), QR_WORKERS: '1' }),
    ]);
    for (const [name, run] of Object.entries({ repeated, first, second })) {
      expect(run.code, `${name}: ${run.stdout.slice(-600)}`).toBe(0);
      expect(statusCount(run, 'unexpected'), name).toBe(0);
    }
    expect(statusCount(repeated, 'expected')).toBe(2 * statusCount(first, 'expected'));
    // URLs never collide between runs, nor between the repeats of a test (same seed, same worker maybe).
    const attempts = (run: SuiteRun) =>
      fs.readFileSync(path.join(run.outputDir, 'created-groups.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
        .filter((e) => e.event === 'attempt' && e.url && !e.test.includes('already taken')) as { url: string; test: string }[];
    const all = [repeated, first, second].map(attempts);
    expect(all.flat().length).toBeGreaterThan(40);
    const between = all.map((a) => new Set(a.map((e) => e.url)));
    expect([...between[1]].filter((u) => between[0].has(u) || between[2].has(u))).toEqual([]);
    const byTest = new Map<string, string[]>();
    for (const e of all[0]) byTest.set(e.test, [...(byTest.get(e.test) ?? []), e.url]);
    const repeatedTests = [...byTest.values()].filter((urls) => urls.length === 2);
    expect(repeatedTests.length).toBeGreaterThan(10);
    expect(repeatedTests.filter(([a, b]) => a === b)).toEqual([]);
    // The groups made: 2 per run (the repeats share theirs), 4 on the API both runs share, all distinct.
    const made = [...ledgerOf(first), ...ledgerOf(second), ...ledgerOf(repeated)].map((e) => e.url);
    expect(new Set(made).size).toBe(6);
    expect(ledgerOf(repeated)).toHaveLength(2);
    expect(api.stats.groupsCreated).toBe(4);
  } finally {
    await server.close();
  }
});
