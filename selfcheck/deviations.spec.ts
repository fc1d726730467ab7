/**
 * Known deviations (known-deviations.json, fixtures/config/deviations.ts) in a real run: one run of a
 * create-echo test, with a deviation for that clause in each environment. In local its API swaps
 * the flags (honoured: an expected failure, GO); in prelive the entry's review date has passed
 * (expired: the run fails naming it); production honours the clause (fixed: the entry must go).
 * The verdict's rules themselves are unit-tested in verdict.spec.ts; the file's own in start-up.spec.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  DEFAULT_DEVIATIONS_FILE,
  type KnownDeviation,
  KnownDeviations,
  readKnownDeviations,
} from '../fixtures/config/deviations';
import { test as base, expect, pointAt, type SuiteRun, tempDir } from './fixtures';

const TODAY = '2026-07-01';
const deviation = (environment: KnownDeviation['environment'], reviewBy: string): KnownDeviation => ({
  clause: 'create-echo',
  environment,
  reason: `${environment}: the flags come back swapped (self-test)`,
  link: 'https://github.com/example/issues/1',
  reviewBy,
});
const deviations = [
  deviation('local', '2026-12-31'),
  deviation('prelive', '2026-06-30'),
  deviation('production', '2026-12-31'),
];

const test = base.extend<{ excused: SuiteRun }>({
  excused: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('excused', async () => {
        const file = path.join(tempDir('deviations'), 'known-deviations.json');
        fs.writeFileSync(file, JSON.stringify(deviations));
        const api = await shareReferenceApi();
        const token = () => api.issueAccessToken({ sub: 'user-deviations', clientId: 'c', scope: 'room' });
        // One create-echo test per environment: the flags of the group at the limits.
        return shareRun('excused', ['--grep', 'the group is what was asked for'], {
          QR_KNOWN_DEVIATIONS: file,
          QR_TODAY: TODAY,
          QR_REFERENCE_FAULT: 'booleans-swapped',
          ...pointAt('PRELIVE', api.origin, { clientId: 'c', accessToken: token() }),
          ...pointAt('PRODUCTION', api.origin, { clientId: 'c', accessToken: token() }, 'faithful'),
          PRODUCTION_ALLOW_WRITES: 'true',
        });
      }),
    ),
});

const verdictOf = (run: SuiteRun, environment: string) =>
  run.summary.split('\n').find((l) => l.startsWith(`- ${environment}: **`)) ?? '';
const testsOf = (run: SuiteRun, environment: string) => run.tests.filter((t) => t.projectName === environment);

test.describe('one run, a deviation in each environment', () => {
  test.describe.configure({ mode: 'default' });

  test('a deviation for a clause that fails: its test is an expected failure, listed, and the environment GO', async ({
    excused: run,
  }) => {
    const failing = testsOf(run, 'local').filter((t) => t.errors.join('\n').includes('[create-echo]'));
    expect(failing).toHaveLength(1);
    for (const t of failing) expect(t.status, t.title).toBe('expected');
    expect(
      run.annotations('qr-known-deviation').filter((d) => d.environment === 'local').length,
    ).toBeGreaterThanOrEqual(failing.length);
    expect(run.cellsOf('create-echo')[0]).toBe('expected-fail (known deviation)');
    expect(run.summary).toMatch(/Expected failures \(known deviations\):\n\n- local · /);
    expect(verdictOf(run, 'local')).toMatch(/^- local: \*\*GO\*\* \(0 passed, 0 failed, \d+ expected to fail/);
  });

  test('an expired deviation fails its environment, naming itself, though every test passes', async ({
    excused: run,
  }) => {
    expect(testsOf(run, 'prelive').filter((t) => t.status === 'unexpected')).toEqual([]);
    const { reason, link } = deviations[1];
    expect(run.stderr).toContain(
      `Known deviation expired: create-echo in prelive: ${reason} (${link}), review by 2026-06-30.`,
    );
    expect(run.stderr).toContain(`Today is ${TODAY}`);
    expect(run.summary).toContain(`review by 2026-06-30: **EXPIRED** (today is ${TODAY})`);
    expect(verdictOf(run, 'prelive')).toMatch(
      /^- prelive: \*\*NO-GO\*\* .*known deviation expired: create-echo \(review by 2026-06-30\)/,
    );
  });

  test('a deviation whose clause passes fails its environment: the entry must go', async ({ excused: run }) => {
    const passedAnyway = testsOf(run, 'production').filter((t) => t.status === 'unexpected');
    expect(passedAnyway.length).toBeGreaterThanOrEqual(1);
    const fixed = 'a known deviation expects it to fail (create-echo): the environment seems fixed, remove the entry';
    expect(run.summary).toContain(`${fixed} from known-deviations.json`);
    expect(verdictOf(run, 'production')).toMatch(/^- production: \*\*NO-GO\*\*/);
  });

  test('the run fails, and its verdict file says so', async ({ excused: run }) => {
    expect(run.code, run.tail()).toBe(1);
    expect(run.verdict.ok).toBe(false);
  });
});

test('one entry per clause and environment', () => {
  const twice = KnownDeviations.safeParse([
    deviations[0],
    { ...deviations[0], reason: 'the same clause and environment again' },
  ]);
  expect(twice.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
    '1: duplicates entry 0 (create-echo in local)',
  ]);
  expect(KnownDeviations.safeParse(deviations).success).toBe(true);
});

test('the checked-in file is valid', () => {
  expect(() => readKnownDeviations(DEFAULT_DEVIATIONS_FILE)).not.toThrow();
});

/** A front to a reference API that holds every create for half a minute: a test waiting on one times out. */
async function slowCreates(target: string) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.method === 'POST' && req.url?.endsWith('/rooms/groups')) await new Promise((r) => setTimeout(r, 30_000));
      const answer = await fetch(new URL(req.url ?? '/', target), {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k.startsWith('x-') || k === 'content-type'),
        ) as Record<string, string>,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      }).catch(() => undefined);
      if (res.destroyed) return;
      res.writeHead(answer?.status ?? 502, { 'content-type': answer?.headers.get('content-type') ?? 'text/plain' });
      res.end(answer ? Buffer.from(await answer.arrayBuffer()) : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test('an excused test that times out is FAILED, and npm test runs local whatever the state of a stored prelive login', async ({
  runSuite,
  referenceApi,
}) => {
  const dir = tempDir('timeout');
  const file = path.join(dir, 'known-deviations.json');
  fs.writeFileSync(file, JSON.stringify([deviations[0]]));
  const authDir = path.join(dir, 'auth');
  fs.mkdirSync(authDir, { mode: 0o700 });
  fs.writeFileSync(path.join(authDir, 'prelive.refresh.json'), '{"source": "login", "refreshTo', { mode: 0o600 });
  const api = await referenceApi();
  const slow = await slowCreates(api.origin);
  const token = api.issueAccessToken({ sub: 'user-timeout', clientId: 'c', scope: 'room' });
  // As `npm test` runs it (--project=local), with a prelive client whose stored login is broken.
  const run = await runSuite(['--project=local', '--grep', 'the group is what was asked for', '--timeout=4000'], {
    QR_KNOWN_DEVIATIONS: file,
    QR_TODAY: TODAY,
    QR_AUTH_DIR: authDir,
    ...pointAt('LOCAL', slow.origin, { clientId: 'c', accessToken: token }),
    PRELIVE_CLIENT_ID: 'c',
    PRELIVE_CLIENT_SECRET: 'prelive-secret-0123456789',
  }).finally(slow.close);
  console.log(run.stdout.slice(run.stdout.indexOf('Contract verdict')));
  expect(run.code, run.tail()).toBe(1);
  expect(run.stdout).toMatch(/^ {2}local: NO-GO, 1 test\(s\) failed \(create-echo/m);
  expect(run.summary).toMatch(
    /expected to fail for create-echo \(known deviation\), but timed out, which no known deviation excuses/,
  );
  expect(run.output).not.toContain('PRELIVE');
  expect(JSON.parse(run.read('contract-verdict.json')).filter).toBe('--grep the group is what was asked for');
});
