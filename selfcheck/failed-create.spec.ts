/**
 * A failed create tells one story. Production, with writes, runs against a server that counts
 * limits in UTF-8 bytes (fault `limits-in-bytes`), so the group with every field at its limit is
 * refused: the test that made it fails once, naming limits-max-accepted with what was sent and
 * received and why it matters; every test that needs that group, directly or through the typed
 * group (no minimal group stands in for it in production), is skipped naming it, and their
 * clauses are "not verified", never FAILED; the verdict is NO-GO and the exit code says so.
 * Its credentials are a refresh token and a client secret: none of them, nor what the exchange
 * issues, may reach the run's artifacts, kept traces included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { refreshStoreFile } from '../fixtures/config/settings';
import { firstAnnotation } from '../fixtures/contract/annotations';
import { type ClauseId, clauseIds, clausesOfTags } from '../fixtures/contract/clauses';
import { plans } from '../fixtures/harness/groups';
import { test as base, expect, type JsonTest, pointAt, type SuiteRun } from './fixtures';
import { type ScanReport, scanRun } from './scan';

type Refused = { run: SuiteRun; secrets: string[]; scan: ScanReport };
const test = base.extend<{ refused: Refused }>({
  refused: async ({ once, shareRun, shareReferenceApi }, use) =>
    use(
      await once('limits-in-bytes', async () => {
        const secrets = [`story-secret-${Date.now()}`];
        const api = await shareReferenceApi({ clients: { c: secrets[0] }, onTokenIssued: (t) => secrets.push(t) });
        const refreshToken = api.issueRefreshToken({ sub: 'user-story', clientId: 'c', scope: 'room offline_access' });
        const run = await shareRun('limits-in-bytes', ['--project=production'], {
          ...pointAt(
            'PRODUCTION',
            api.origin,
            { clientId: 'c', clientSecret: secrets[0], refreshToken },
            'limits-in-bytes',
          ),
          PRODUCTION_ALLOW_WRITES: 'true',
          QR_TRACE: 'retain-on-failure',
        });
        return {
          run,
          secrets,
          scan: scanRun(
            run,
            secrets.map((value, i) => ({ label: `secret #${i}`, value })),
          ),
        };
      }),
    ),
});
test.describe.configure({ mode: 'default' });

const dependsOn = (t: JsonTest) => firstAnnotation(t, 'qr-depends-on');
/** The test whose create at the limits failed. */
const storyteller = (run: SuiteRun) =>
  run.testsWith('unexpected').filter((t) => t.errors.join('\n').includes('[limits-max-accepted]'));

test('the refused create fails one test, naming its clause, what was sent and received, and why it matters', async ({
  refused: { run },
}) => {
  const [story, ...more] = storyteller(run);
  expect(more).toEqual([]);
  const error = story.errors.join('\n');
  expect(error).toMatch(/^ContractViolation: \[limits-max-accepted\] Values at the limits/);
  expect(error).toMatch(/Received: the create of the group with every field at its limit answered 400/);
  expect(error).toMatch(/Sent: POST http:\S+\/v1\/rooms\/groups\n.*\n {2}body: \{"name":"QA contract test /);
  expect(error).toContain(
    `Checks that need this group are skipped in this run, naming this failure: ${plans.limits.dependants.join(', ')}`,
  );
});

test('it is the one failure: every test that waited on it, also through the typed group, is skipped naming it', async ({
  refused: { run },
}) => {
  const [story] = storyteller(run);
  expect(run.testsWith('unexpected')).toEqual([story]);
  const waiting = run.tests.filter((t) => dependsOn(t));
  expect(waiting.length).toBeGreaterThanOrEqual(12);
  expect(
    waiting.filter((t) => t.status !== 'skipped' || dependsOn(t)?.test !== story.title).map((t) => t.title),
  ).toEqual([]);
  expect(waiting.filter((t) => t.file === 'typed.spec.ts').length).toBeGreaterThanOrEqual(3);
});

test('the summary blames limits-max-accepted alone, and the clauses that waited on it are "not verified"', async ({
  refused: { run },
}) => {
  const cell = (clause: ClauseId) => run.cellsOf(clause)[0];
  expect(clauseIds.filter((c) => cell(c) === '**FAILED**')).toEqual(['limits-max-accepted']);
  const waited = new Set(run.tests.filter((t) => dependsOn(t)).flatMap((t) => clausesOfTags(t.tags)));
  waited.delete('limits-max-accepted');
  expect(waited.size).toBeGreaterThanOrEqual(6);
  for (const c of waited) expect(cell(c), c).toBe('not verified');
});

test('the verdict is NO-GO for the failed create, and the run fails', async ({ refused: { run } }) => {
  expect(run.stdout).toMatch(/^ {2}production: NO-GO, 1 test\(s\) failed \(limits-max-accepted\)/m);
  expect(run.code, run.tail()).toBe(1);
  expect(run.verdict).toMatchObject({ ok: false, status: 'failed' });
});

test('a failed run leaves no secret in any artifact or the console, its kept trace included', async ({
  refused: { secrets, scan },
}) => {
  // The client secret, the configured refresh token, and the exchange's access and rotated refresh tokens.
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  expect(scan.unreadable).toEqual([]);
  expect(scan.hits).toEqual([]);
});

test("the scan opened every kind of artifact: a trace's network log, the HTML report, JUnit, JSON, the ledger", async ({
  refused: { scan },
}) => {
  const opened = (pattern: RegExp) => scan.scanned.some((p) => pattern.test(p));
  expect(opened(/trace\.zip!.*\.network$/), 'a trace').toBe(true);
  expect(opened(/index\.html!base64/), 'the HTML report').toBe(true);
  expect(opened(/junit\.xml$/), 'JUnit').toBe(true);
  expect(opened(/results\.json$/), 'JSON').toBe(true);
  expect(opened(/created-groups\.json$/), 'the ledger').toBe(true);
});

test('the rotated refresh token is kept for the next run, outside every report', async ({
  refused: { run, secrets },
}) => {
  const stored = JSON.parse(fs.readFileSync(refreshStoreFile(run.authDir, 'production'), 'utf8')).refreshToken;
  expect(secrets.slice(2)).toContain(stored);
  expect(path.relative(run.dir, run.authDir).startsWith('..')).toBe(true);
});
