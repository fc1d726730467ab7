/**
 * Runs that overlap share nothing but the API: two smoke runs started at once against one
 * reference API (as `local`), one of them with `--repeat-each=2` on two workers. No URL collides,
 * between the runs or between the repeats of a test, and each run makes its one group once.
 */
import { LEDGER_LOG } from '../fixtures/ledger';
import { test as base, expect, pointAt, type ServedApi, type SuiteRun } from './fixtures';

type Overlapping = { repeated: SuiteRun; single: SuiteRun; api: ServedApi };
const test = base.extend<{}, { overlapping: Overlapping }>({
  overlapping: [
    async ({ shareRun, shareReferenceApi }, use) => {
      const api = await shareReferenceApi();
      const local = () => pointAt('LOCAL', api.origin, { clientId: 'shared', accessToken: api.issueAccessToken({ sub: 'user-shared', clientId: 'shared', scope: 'room' }) });
      const [repeated, single] = await Promise.all([
        shareRun('repeated', ['--grep', '@smoke', '--repeat-each=2'], { ...local(), QR_WORKERS: '2' }),
        shareRun('single', ['--grep', '@smoke'], local()),
      ]);
      await use({ repeated, single, api });
    },
    { scope: 'worker' },
  ],
});
test.describe.configure({ mode: 'default' });

/** The url of every create a run sent, with its test (from the ledger's journal: refused ones too). */
const attempts = (run: SuiteRun): { url: string; test: string }[] =>
  run
    .read(LEDGER_LOG)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((e) => e.event === 'attempt' && typeof e.url === 'string' && !e.test.includes('already taken'));
const runIdOf = (run: SuiteRun) => run.stderr.match(/Contract run (\w+),/)?.[1] ?? 'no run id';

test('two runs at once against one API both pass, and none of their URLs is the other’s', async ({ overlapping }) => {
  const { repeated, single } = overlapping;
  for (const run of [repeated, single]) expect(run.code, run.tail()).toBe(0);
  const ofSingle = new Set(attempts(single).map((a) => a.url));
  expect(ofSingle.size).toBeGreaterThanOrEqual(3);
  expect(attempts(repeated).filter((a) => ofSingle.has(a.url))).toEqual([]);
});

test('--repeat-each=2 runs every test twice, each repeat with its own URLs, and the run’s group once', async ({ overlapping }) => {
  const { repeated, single } = overlapping;
  expect(repeated.testsWith('expected')).toHaveLength(2 * single.testsWith('expected').length);
  const urlsByTest = new Map<string, string[]>();
  for (const a of attempts(repeated)) urlsByTest.set(a.test, [...(urlsByTest.get(a.test) ?? []), a.url]);
  const sentTwice = [...urlsByTest.values()].filter((urls) => urls.length === 2);
  expect(sentTwice.length).toBeGreaterThanOrEqual(2);
  expect(sentTwice.filter(([a, b]) => a === b)).toEqual([]);
  expect(repeated.ledger).toHaveLength(1);
});

test('a smoke run creates 1 group, by the API and by the ledger', async ({ overlapping }) => {
  const { single, api } = overlapping;
  expect(single.ledger.map((e) => e.status)).toEqual(['created']);
  expect(api.groups().filter((g) => g.url.includes(runIdOf(single)))).toHaveLength(1);
});
