/**
 * The suite copes with an environment that fails it: one that cannot be reached, does not answer,
 * rate-limits forever, or refuses its credentials. Each ends the run quickly with exactly one
 * failed test saying why, its other tests skipped naming that test, and no clause blamed. One
 * child run holds three broken environments at once (local, prelive, production), so each case is
 * also proven beside the others; 429s within bounds are proven on the credential proxy alone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { signJwt } from '../fixtures/contract/jwt';
import { readLedger } from '../fixtures/contract/ledger-format';
import { CALL_HEADER } from '../fixtures/harness/proxy/forwarder';
import { decodeBody, giveUpOn429, RETRY_POLICY, retryAfterMs } from '../fixtures/harness/proxy/outcome';
import type { ReferenceApiOptions } from '../reference-api/server';
import { test as base, expect, pointAt, type ServedApi, type SuiteRun } from './fixtures';
import { scanRun } from './scan';

/** A server answering every request with `answer`, or never (`silent`); it counts requests. */
async function tinyServer(answer: ((res: http.ServerResponse) => void) | 'silent') {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (answer !== 'silent') req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
const tooMany = (retryAfter: string) => (res: http.ServerResponse) => {
  res.writeHead(429, { 'retry-after': retryAfter });
  res.end();
};

/** An access token as any server here takes it: a JWT naming its user, `exp` minutes from now. */
function accessToken(minutes = 60) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { sub: 'user-resilience', client_id: 'c', scope: 'room', iat: now - 7200, exp: now + 60 * minutes, jti: 'x' },
    'key',
  );
}
const at = (prefix: string, origin: string, token = accessToken()) =>
  pointAt(prefix, origin, { clientId: 'c', accessToken: token });

/** Two tests per environment, each sending a request of its own at once: a 401 check and a 400 check. */
const TWO_REQUESTS = ['--grep', 'a create without an access token|with name: 51 characters'];
type ShareRun = (name: string, args: string[], env: NodeJS.ProcessEnv) => Promise<SuiteRun>;

/**
 * Three broken environments in one run: local cannot be reached (refused), prelive does not answer
 * (configured with every credential, none of which may leak), production rate-limits forever.
 */
async function brokenRun(workers: number, shareRun: ShareRun) {
  const refusing = await tinyServer((res) => res.end());
  await refusing.close();
  const silent = await tinyServer('silent');
  const limiting = await tinyServer(tooMany('0'));
  const secrets = [accessToken(), 'rt_prelive-refresh-token-0123456789', 'prelive-client-secret-0123456789'];
  const [token, refreshToken, clientSecret] = secrets;
  try {
    const run = await shareRun(`broken-${workers}`, TWO_REQUESTS, {
      ...at('LOCAL', refusing.origin),
      ...pointAt('PRELIVE', silent.origin, { clientId: 'c', accessToken: token, refreshToken, clientSecret }),
      ...at('PRODUCTION', limiting.origin),
      // The bound of a silent API is this timeout (the default, 15 s, is the settings' to prove).
      QR_REQUEST_TIMEOUT_MS: '1000',
      QR_WORKERS: String(workers),
    });
    return { run, secrets };
  } finally {
    await Promise.all([silent.close(), limiting.close()]);
  }
}

/**
 * Three environments whose credentials are refused, in one run: local's access token has expired,
 * prelive's refresh token is unknown to the token endpoint (a reference API's), production's
 * client secret is wrong.
 */
async function refusedRun(shareRun: ShareRun, serve: (o: ReferenceApiOptions) => Promise<ServedApi>) {
  const secrets = ['refused-secret-0123456789', `rt_unknown${Date.now()}abcdefghij`, 'a-wrong-secret-0123456789'];
  const [clientSecret, unknownToken, wrongSecret] = secrets;
  const api = await serve({ clients: { c: clientSecret }, onTokenIssued: (t) => secrets.push(t) });
  const validToken = api.issueRefreshToken({ sub: 'user-refused', clientId: 'c', scope: 'room offline_access' });
  const expired = accessToken(-60);
  secrets.push(expired);
  const run = await shareRun('refused', TWO_REQUESTS, {
    ...at('LOCAL', 'http://127.0.0.1:9', expired),
    ...pointAt('PRELIVE', api.origin, { clientId: 'c', clientSecret, refreshToken: unknownToken }),
    ...pointAt('PRODUCTION', api.origin, { clientId: 'c', clientSecret: wrongSecret, refreshToken: validToken }),
  });
  return { run, secrets, apiRequests: api.stats.byRoute };
}

type Broken = Awaited<ReturnType<typeof brokenRun>>;
type Refused = Awaited<ReturnType<typeof refusedRun>>;
const test = base.extend<{ broken: (workers: 2) => Promise<Broken>; refused: Refused }>({
  broken: async ({ once, shareRun }, use) =>
    use((workers) => once(`broken-${workers}`, () => brokenRun(workers, shareRun))),
  refused: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(await once('refused', () => refusedRun(shareRun, shareReferenceApi))),
});

function noSecretIn(run: SuiteRun, secrets: string[]) {
  const scan = scanRun(
    run,
    secrets.map((value, i) => ({ label: `secret #${i}`, value })),
  );
  expect(scan.unreadable).toEqual([]);
  expect(scan.hits).toEqual([]);
}

/** The environment's one failed test (its error), after checking that every other test of it was skipped. */
function onlyFailure(run: SuiteRun, environment: string): string {
  const mine = run.tests.filter((t) => t.projectName === environment);
  expect(mine.length, environment).toBeGreaterThan(1);
  expect(
    mine.filter((t) => t.status === 'unexpected'),
    `${environment}: one failure`,
  ).toHaveLength(1);
  expect(
    mine.filter((t) => !['unexpected', 'skipped'].includes(t.status)),
    `${environment}: the rest skipped`,
  ).toEqual([]);
  return mine.find((t) => t.status === 'unexpected')!.errors.join('\n');
}

for (const workers of [2] as const)
  test.describe(`with ${workers} worker(s)`, () => {
    test.describe.configure({ mode: 'default' });

    test(`an API that cannot be reached fails one test, and the verdict says so`, async ({ broken }) => {
      const { run } = await broken(workers);
      expect(run.stdout).toContain(`using ${workers} worker`);
      expect(onlyFailure(run, 'local')).toMatch(
        /EnvironmentFailure: local: not reachable \(ECONNREFUSED for http:\/\/127\.0\.0\.1:\d+\)/,
      );
      expect(run.stdout).toMatch(
        /^ {2}local: NOT TESTED \(setup: not reachable\), not reachable \(ECONNREFUSED for http:\/\/127\.0\.0\.1:\d+\): check LOCAL_API_BASE_URL/m,
      );
    });

    test(`an API that does not answer fails one test, and the verdict says so`, async ({ broken }) => {
      const { run } = await broken(workers);
      const noAnswer =
        /prelive: not answering: (GET|POST) http:\S+ got no answer within 1000 ms .*, and so did a probe/;
      expect(onlyFailure(run, 'prelive')).toMatch(noAnswer);
      expect(run.stdout).toMatch(
        new RegExp(
          `^ {2}prelive: NOT TESTED \\(setup: not answering\\), ${noAnswer.source.slice('prelive: '.length)}`,
          'm',
        ),
      );
    });

    test(`an API that rate-limits forever fails one test, and the verdict says so`, async ({ broken }) => {
      const { run } = await broken(workers);
      expect(onlyFailure(run, 'production')).toMatch(
        /production: rate-limited beyond the suite's patience: .* gave up after 5 attempts/,
      );
      expect(run.stdout).toMatch(
        /^ {2}production: NOT TESTED \(setup: rate-limited\), rate-limited beyond the suite's patience/m,
      );
    });

    test(`broken environments blame no clause, and only their failed tests wait`, async ({ broken }) => {
      const { run } = await broken(workers);
      expect(run.summary).not.toContain('FAILED');
      expect(run.code).toBe(1);
      // Silence costs a request's timeout and a probe's (1 s each here), only to the tests in flight: the others are
      // not sent. Below two timeouts, a test's time is the machine's (a worker's first test carries its start-up).
      const waited = run.tests.filter((t) => t.duration >= 1_900).map((t) => t.projectName);
      expect(new Set(waited)).toEqual(new Set(['prelive']));
      expect(waited.length).toBeLessThanOrEqual(workers);
    });

    test(`a silent API leaves no secret of its environment's credentials behind`, async ({ broken }) => {
      const { run, secrets } = await broken(workers);
      noSecretIn(run, secrets);
    });

    test(`the ledger keeps unanswered creates as outcome unknown, and none never sent`, async ({ broken }) => {
      const { run } = await broken(workers);
      const kept = run.ledger.map((e) => `${e.environment}: ${e.status}, ${e.visibility}`);
      // Silence and 429s say nothing of what the server did; a refused connection sent nothing.
      expect(new Set(kept)).toEqual(new Set(['prelive: unknown, unknown', 'production: unknown, unknown']));
    });
  });

test.describe('refused credentials', () => {
  test.describe.configure({ mode: 'default' });

  test('an expired access token fails one test, saying to obtain a new one', async ({ refused: { run } }) => {
    expect(onlyFailure(run, 'local')).toMatch(
      /LOCAL_ACCESS_TOKEN expired at \S+ \(60 min ago\)\. Access tokens last about an hour: obtain a new one/,
    );
  });

  test('a refresh token the token endpoint refuses fails one test, saying to renew it', async ({
    refused: { run },
  }) => {
    expect(onlyFailure(run, 'prelive')).toMatch(
      /refused the refresh token: invalid_grant\. Renew PRELIVE_REFRESH_TOKEN/,
    );
    expect(
      run.count('refused the refresh token: invalid_grant'),
      'with the failure and in the verdict, never per test',
    ).toBeLessThanOrEqual(2);
  });

  test('a client the token endpoint refuses fails one test, saying to check its id and secret', async ({
    refused: { run },
  }) => {
    expect(onlyFailure(run, 'production')).toMatch(
      /invalid_client\. Check PRODUCTION_CLIENT_ID and PRODUCTION_CLIENT_SECRET/,
    );
    expect(run.count('refused the refresh token: invalid_client')).toBeLessThanOrEqual(2);
  });

  test('refused credentials send nothing to the API and leave no secret in any artifact or the console', async ({
    refused,
  }) => {
    expect(refused.apiRequests).toEqual({ token: 2 });
    noSecretIn(refused.run, refused.secrets);
  });
});

// ---- 429 on the credential proxy alone ---------------------------------------------------------------

test('the 429 patience is bounded: 5 sends, 10 s for one wait, 20 s in all', () => {
  expect(RETRY_POLICY).toEqual({ attempts: 5, maxWaitMs: 10_000, totalWaitMs: 20_000 });
  expect([retryAfterMs('3'), retryAfterMs(undefined), retryAfterMs('11')]).toEqual([3_000, 1_000, undefined]);
  expect(retryAfterMs(new Date(Date.now() + 2_000).toUTCString())).toBeLessThanOrEqual(2_000);
  expect(giveUpOn429(1, 1_000, 3_000, '3')).toBeUndefined();
  expect(giveUpOn429(4, 4_000, 1_000, '1')).toMatch(/gave up after 5 attempts$/);
  expect(giveUpOn429(2, 16_000, 8_000, '8')).toMatch(/would exceed the suite's total of 20000 ms$/);
  expect(giveUpOn429(0, 0, undefined, '60')).toMatch(/Retry-After "60" asks for more than the suite waits at once/);
});

test('a 429 is waited out after its Retry-After, and the request goes through', async ({ credentialProxy }) => {
  let answers = 0;
  const api = await tinyServer((res) => (++answers <= 2 ? tooMany('0')(res) : res.end('{}')));
  const proxy = await credentialProxy('prelive', api.origin);
  const id = proxy.register({ auth: 'valid', test: 'self-test' });
  await fetch(`${proxy.origin}v1/rooms/1`, { headers: { [CALL_HEADER]: id } });
  await api.close();
  expect(proxy.take(id)).toMatchObject({ kind: 'answered', status: 200, retries: 2 });
});

test('an API that always answers 429 gets 5 sends of a request, then the proxy gives up saying why', async ({
  credentialProxy,
}) => {
  const api = await tinyServer(tooMany('0'));
  const proxy = await credentialProxy('prelive', api.origin);
  const id = proxy.register({ auth: 'valid', test: 'self-test' });
  await fetch(`${proxy.origin}v1/rooms/1`, { headers: { [CALL_HEADER]: id } });
  await api.close();
  expect(api.requests()).toBe(RETRY_POLICY.attempts);
  expect(proxy.take(id)).toMatchObject({
    kind: 'rate-limited',
    why: expect.stringMatching(/gave up after 5 attempts$/),
  });
});

// ---- one decoding, for the client and the ledger ----------------------------------------------------

const ENCODERS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync } as const;

test('a body is decoded as any client decodes it: gzip, deflate (zlib or raw), br; anything else as received', () => {
  const json = Buffer.from('{"data":{"id":7,"name":"مجموعة"}}');
  for (const [encoding, encode] of Object.entries(ENCODERS))
    expect(decodeBody(encoding, encode(json)), encoding).toEqual({ body: json, decoded: true });
  expect(decodeBody('deflate', deflateRawSync(json))).toEqual({ body: json, decoded: true });
  expect(decodeBody('BR ', brotliCompressSync(json)).body).toEqual(json);
  expect(decodeBody('gzip', json)).toEqual({ body: json, decoded: false });
  expect(decodeBody('zstd', json)).toEqual({ body: json, decoded: false });
  expect(decodeBody(undefined, json)).toEqual({ body: json, decoded: false });
});

for (const encoding of ['br', 'deflate'] as const)
  test(`the ledger records the id and visibility of a group whose 201 came ${encoding}-encoded`, async ({
    credentialProxy,
  }) => {
    const created = Buffer.from(JSON.stringify({ success: true, data: { id: 4242, url: 'qa-x', isPublic: true } }));
    const api = await tinyServer((res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-encoding': encoding });
      res.end(ENCODERS[encoding](created));
    });
    const proxy = await credentialProxy('prelive', api.origin);
    const id = proxy.register({ auth: 'valid', test: 'self-test' });
    const answer = await fetch(`${proxy.origin}v1/rooms/groups`, {
      method: 'POST',
      headers: { [CALL_HEADER]: id, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'QA contract test x', url: 'qa-x', public: false }),
    });
    await api.close();
    // The client reads the same decoded body, once: the proxy hands it on decoded.
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(created);
    expect(proxy.take(id)).toMatchObject({ kind: 'answered', status: 201, body: created });
    expect(readLedger(proxy.ledgerDir)).toMatchObject([
      { status: 'created', id: 4242, public: true, visibility: 'public', requestedPublic: false },
    ]);
  });
