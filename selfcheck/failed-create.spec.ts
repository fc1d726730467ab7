/**
 * A failed create tells one story. The server counts limits in UTF-8 bytes (fault
 * `limits-in-bytes`), so the group with every field at its limit is refused: the test that made it
 * fails once, naming limits-max-accepted with what was sent and received and why it matters; every
 * test that needs that group is skipped naming it, and its clauses are "not verified", never
 * FAILED; the verdict is NO-GO and the exit code says so. In local and in production with writes,
 * where no group made with name and url only can stand in for it.
 */
import { firstAnnotation } from '../fixtures/annotations';
import { type ClauseId, clauseIds, clausesOfTags } from '../fixtures/clauses';
import { plans } from '../fixtures/groups';
import { test as base, expect, type JsonTest, pointAt, type SuiteRun } from './fixtures';

const environments = ['local', 'production'] as const;

const test = base.extend<{}, { refused: SuiteRun }>({
  refused: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const api = await shareReferenceApi();
      const accessToken = api.issueAccessToken({ sub: 'user-story', clientId: 'c', scope: 'room' });
      const run = await shareRun('limits-in-bytes', [], {
        QR_REFERENCE_FAULT: 'limits-in-bytes',
        ...pointAt('PRODUCTION', api.origin, { clientId: 'c', accessToken }, 'limits-in-bytes'),
        PRODUCTION_ALLOW_WRITES: 'true',
      });
      await use(run);
    },
    { scope: 'worker' },
  ],
});
test.describe.configure({ mode: 'default' });

const dependsOn = (t: JsonTest) => firstAnnotation(t.annotations, 'qr-depends-on');
/** The test whose create at the limits failed, in an environment. */
const storyteller = (run: SuiteRun, environment: string) =>
  run.testsWith('unexpected').filter((t) => t.projectName === environment && t.errors.join('\n').includes('[limits-max-accepted]'));

for (const environment of environments)
  test(`${environment}: the refused create fails one test, naming its clause, what was sent and received, and why it matters`, async ({ refused: run }) => {
    const [story, ...more] = storyteller(run, environment);
    expect(more).toEqual([]);
    const error = story.errors.join('\n');
    expect(error).toMatch(/^ContractViolation: \[limits-max-accepted\] Values at the limits/);
    expect(error).toMatch(/Received: the create of the group with every field at its limit answered 400/);
    expect(error).toMatch(/Sent: POST http:\S+\/v1\/rooms\/groups\n.*\n {2}body: \{"name":"QA contract test /);
    expect(error).toContain(`Checks that need this group are skipped in this run, naming this failure: ${plans.limits.dependants.join(', ')}`);
  });

for (const environment of environments)
  test(`${environment}: the tests that need the refused group are skipped, naming it`, async ({ refused: run }) => {
    const [story] = storyteller(run, environment);
    const waiting = run.tests.filter((t) => t.projectName === environment && dependsOn(t)?.test === story.title);
    expect(waiting.length).toBeGreaterThanOrEqual(8);
    expect(waiting.filter((t) => t.status !== 'skipped')).toEqual([]);
  });

test('in production, where the typed group needs it too, the refused create is the one failure all the others name', async ({ refused: run }) => {
  const production = run.tests.filter((t) => t.projectName === 'production');
  const [story] = storyteller(run, 'production');
  expect(production.filter((t) => t.status === 'unexpected')).toEqual([story]);
  const waiting = production.filter((t) => dependsOn(t));
  expect(waiting.filter((t) => dependsOn(t)?.test !== story.title).map((t) => t.title)).toEqual([]);
});

test('in production, the summary blames limits-max-accepted alone, and the clauses that waited on it are "not verified"', async ({ refused: run }) => {
  const cell = (clause: ClauseId) => run.cellsOf(clause)[environments.indexOf('production')];
  expect(clauseIds.filter((c) => cell(c) === '**FAILED**')).toEqual(['limits-max-accepted']);
  const waited = run.tests.filter((t) => t.projectName === 'production' && t.annotations.some((a) => a.type === 'qr-depends-on'));
  const clauses = new Set(waited.flatMap((t) => clausesOfTags(t.tags)).filter((c) => c !== 'limits-max-accepted'));
  expect(clauses.size).toBeGreaterThanOrEqual(6);
  for (const c of clauses) expect(cell(c), c).toBe('not verified');
});

test('the verdict is NO-GO in both environments, and the run fails', async ({ refused: run }) => {
  for (const environment of environments) expect(run.stdout).toMatch(new RegExp(`^ {2}${environment}: NO-GO, \\d+ test\\(s\\) failed \\(.*limits-max-accepted`, 'm'));
  expect(run.code, run.tail()).toBe(1);
  expect(run.verdict).toMatchObject({ ok: false, status: 'failed' });
});
