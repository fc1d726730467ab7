/**
 * What the suite refuses before running anything: variables with problems, a known-deviations
 * file that is not valid, a `--project` that is not configured, a `.env` that opts in to production
 * writes. Each stops the run at once with exit code 2 and one message naming every problem. And the
 * harness itself: a child run gets none of the caller's environment variables and reads no `.env`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type SuiteRun, tempDir } from './fixtures';

const planted = {
  PRELIVE_CLIENT_ID: 'from-the-caller',
  PRELIVE_ACCESS_TOKEN: 'from-the-caller',
  PRELIVE_API_BASE_URL: 'http://127.0.0.1:9/quran-reflect',
};

/**
 * `--project=prelive` with two wrong variables, started by a caller whose own environment and
 * `.env` (in the child's working directory) configure prelive: had either reached the child,
 * prelive would be configured.
 */
const test = base.extend<{ misconfigured: SuiteRun }>({
  misconfigured: async ({ once, shareRun }, use) =>
    use(
      await once('misconfigured', () => {
        const home = tempDir('dotenv');
        fs.writeFileSync(
          path.join(home, '.env'),
          Object.entries(planted)
            .map(([k, v]) => `${k}=${v}`)
            .join('\n'),
        );
        const callers = Object.fromEntries(Object.keys(planted).map((k) => [k, process.env[k]]));
        Object.assign(process.env, planted);
        // The child's environment is taken when it starts: the caller's is restored at once.
        const wrong = { QR_WORKERS: 'two', PRODUCTION_API_BASE_URL: 'apis.quran.foundation' };
        const run = shareRun('misconfigured', ['--project=prelive'], wrong, { cwd: home });
        for (const [k, v] of Object.entries(callers))
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        return run;
      }),
    ),
});
test.describe.configure({ mode: 'default' });

test('a misconfigured run exits with 2 at once, before any test, every problem in one message', async ({
  misconfigured: run,
}) => {
  expect(run.code, run.tail()).toBe(2);
  expect(run.stderr).toContain("The suite's configuration has 5 problems:");
  expect(run.stderr).toMatch(
    /^ {2}- QR_WORKERS must be a number of workers \(e\.g\. 2\) or a share of the cores .*\(it is "two"\)/m,
  );
  expect(run.stderr).toMatch(
    /^ {2}- PRODUCTION_API_BASE_URL is not an http\(s\) URL \(it is "apis\.quran\.foundation"\)$/m,
  );
  expect(run.stderr).toMatch(/^ {2}- PRODUCTION_CLIENT_ID is missing$/m);
  expect(run.stderr).toMatch(/^ {2}- no credentials: set PRODUCTION_ACCESS_TOKEN/m);
  expect(run.tests).toEqual([]);
  expect(run.ms).toBeLessThan(10_000);
});

test("a child run inherits none of the caller's PRELIVE_ variables and reads no .env", async ({
  misconfigured: run,
}) => {
  expect(run.stderr).toMatch(/^ {2}- --project=prelive was asked for, but prelive is not configured/m);
});

test('an invalid known-deviations file stops the run at start-up, every entry problem listed', async ({ runSuite }) => {
  const file = path.join(tempDir('deviations'), 'known-deviations.json');
  const entry = {
    clause: 'create-echo',
    environment: 'local',
    reason: 'a reason long enough',
    link: 'https://example.com/1',
    reviewBy: '2026-12-31',
  };
  fs.writeFileSync(
    file,
    JSON.stringify([
      { ...entry, clause: 'create-everything', reviewBy: '31/12/2026' },
      { ...entry, link: 'see the wiki' },
    ]),
  );
  const run = await runSuite(['--project=local'], { QR_KNOWN_DEVIATIONS: file });
  expect(run.code, run.tail()).toBe(2);
  expect(run.stderr).toContain(`${file} is not a valid list of known deviations:`);
  expect(run.stderr).toContain(
    'entry 0.clause: is not a clause id of fixtures/contract/clauses.ts (got "create-everything")',
  );
  expect(run.stderr).toContain('entry 0.reviewBy: must be a date YYYY-MM-DD');
  expect(run.stderr).toContain('entry 1.link: must be an http(s) URL');
  expect(run.tests).toEqual([]);
});

test('a .env that opts in to production writes is refused at start: exit 2, one line saying how to opt in per run', async ({
  runSuite,
}) => {
  const home = tempDir('dotenv-opt-in');
  fs.writeFileSync(path.join(home, '.env'), '# the go-live check\nPRODUCTION_ALLOW_WRITES=true\n');
  const run = await runSuite(['--project=local'], { QR_DOTENV: 'on' }, { cwd: home });
  expect(run.code, run.tail()).toBe(2);
  expect(run.output.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^PRODUCTION_ALLOW_WRITES is set in \.env, .*: delete that line and opt in on the command line of the run that should write, e\.g\. PRODUCTION_ALLOW_WRITES=true npx playwright test --project=production --grep @smoke$/,
    ),
  ]);
  expect(run.tests).toEqual([]);
});
