/**
 * The default command, `npx playwright test` without `--project`, against the embedded API: one
 * child run, read by every test here. It is quiet about the environments it cannot run, passes,
 * says so in the summary, the verdict file, the GitHub step summary and the HTML report, and
 * leaves exactly the run's three groups behind, listed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clauseIds, clauses } from '../fixtures/contract/clauses';
import { LEDGER_FILE } from '../fixtures/contract/ledger-format';
import { RACE_ROUND_SIZE } from '../fixtures/harness/race-round';
import type { ReferenceApiStats } from '../reference-api/server';
import { test as base, expect, type SuiteRun, tempDir } from './fixtures';
import { htmlReportData, scanRun, secretsFromLog } from './scan';

type DefaultRun = { run: SuiteRun; stepSummary: string; secretsLog: string };
const test = base.extend<{ defaultRun: DefaultRun }>({
  defaultRun: async ({ once, shareRun }, use) =>
    use(
      await once('default-run', async () => {
        const dir = tempDir('default-run');
        const stepSummary = path.join(dir, 'step-summary.md');
        const secretsLog = path.join(dir, 'secrets.txt');
        fs.writeFileSync(stepSummary, '# earlier step\n');
        // The user's default of two workers (the harness's is one).
        const env = { GITHUB_STEP_SUMMARY: stepSummary, QR_SECRETS_LOG: secretsLog, QR_WORKERS: '2' };
        return { run: await shareRun('default', [], env), stepSummary, secretsLog };
      }),
    ),
});
// Every test reads the one run: in order, in one worker.
test.describe.configure({ mode: 'default' });

test('without --project, each unconfigured environment gets one line, and no skipped test', async ({
  defaultRun: { run },
}) => {
  expect(run.stdout.match(/^\w+: not configured, not run \(.*\)$/gm)).toEqual([
    'prelive: not configured, not run (PRELIVE_CLIENT_ID and its credentials are not set; see .env.example)',
    'production: not configured, not run (PRODUCTION_CLIENT_ID and its credentials are not set; see .env.example)',
  ]);
  expect(new Set(run.tests.map((t) => t.projectName))).toEqual(new Set(['local']));
  expect(run.testsWith('skipped')).toEqual([]);
});

test('a passing run exits with 0, and its verdict says GO and passed', async ({ defaultRun: { run } }) => {
  expect(run.code, run.tail()).toBe(0);
  expect(run.verdict).toMatchObject({ ok: true, status: 'passed' });
  expect(run.stdout).toMatch(
    /^ {2}local: GO \(not a go-live GO\) \[http:\/\/127\.0\.0\.1:\d+\/quran-reflect, embedded reference API/m,
  );
});

test('the verdict comes first in the summary, naming what was tested, when, by which suite, with which filter', async ({
  defaultRun: { run },
}) => {
  const lines = run.summary.split('\n');
  expect(lines.slice(2, 4)).toEqual(['## Verdict', '']);
  expect(lines[4]).toMatch(/^- local: \*\*GO\*\* .*\[http:\/\/127\.0\.0\.1:\d+\/quran-reflect, embedded reference API/);
  expect(run.summary).toMatch(
    /ended \d{4}-\d\d-\d\dT[\d:]+Z · suite 0\.1\.0 \(commit \w+\) · filter: none \(every test\)/,
  );
  expect(run.verdict).toMatchObject({ ran: true, goLive: false, filter: 'none (every test)' });
});

test('the summary has one row per clause, with its promise, and each passed', async ({ defaultRun: { run } }) => {
  expect(run.summary).toContain('| clause | promise | local |');
  for (const id of clauseIds) {
    expect(run.summary, id).toContain(`| \`${id}\` | ${clauses[id].title.replace(/\|/g, '\\|')} |`);
    expect(run.cellsOf(id), id).toEqual(['passed']);
  }
});

test('the summary names the run id and seed the run printed at its start', async ({ defaultRun: { run } }) => {
  const [, runId, seed] = run.stderr.match(/Contract run (\w+), seed QR_SEED=(\d+)/) ?? [];
  expect(runId).toBeTruthy();
  expect(run.summary).toContain(`run \`${runId}\`, seed \`QR_SEED=${seed}\``);
});

test('the summary lists every group of the ledger, and points to it', async ({ defaultRun: { run } }) => {
  expect(run.summary).toContain(`${run.ledger.length} group(s)`);
  expect(run.summary).toContain(`${LEDGER_FILE}\``);
  for (const g of run.ledger) expect(run.summary).toContain(`| local | created | ${g.id} | ${g.url} |`);
});

test('the summary and the console name unconfigured environments as such, never GO', async ({
  defaultRun: { run },
}) => {
  for (const env of ['prelive', 'production']) {
    expect(run.summary).toMatch(
      new RegExp(`^- ${env}: not configured, ${env.toUpperCase()}_CLIENT_ID and its credentials are not set`, 'm'),
    );
    expect(run.stdout).toMatch(new RegExp(`^ {2}${env}: not configured`, 'm'));
  }
});

test('the summary is appended to the GitHub step summary, after what was there', async ({
  defaultRun: { run, stepSummary },
}) => {
  expect(fs.readFileSync(stepSummary, 'utf8')).toBe(`# earlier step\n${run.summary}\n`);
});

// The three run groups and one text bundle: the reference refuses the other (a name of 51 code points).
test('a full run creates 4 groups, by the reference API and by the ledger', async ({ defaultRun: { run } }) => {
  const stats: ReferenceApiStats = JSON.parse(run.read('reference-api-stats.json'));
  expect(stats.groupsCreated).toBe(4);
  expect(run.ledger.map((e) => e.status)).toEqual(['created', 'created', 'created', 'created']);
});

test('every test that made a group points to the ledger, in the JSON and JUnit reports', async ({
  defaultRun: { run },
}) => {
  const pointers = run.tests.flatMap((t) => t.annotations).filter((a) => a.type === 'created-group');
  expect(pointers).toHaveLength(4);
  for (const p of pointers) expect(p.description).toContain(LEDGER_FILE);
  expect(run.read('junit.xml')).toContain(LEDGER_FILE);
});

type Step = { title: string; steps: Step[] };
const allSteps = (steps: Step[]): Step[] => steps.flatMap((s) => [s, ...allSteps(s.steps)]);

test('the HTML report shows each HTTP exchange as a step: method and path, then status and time', async ({
  defaultRun: { run },
}) => {
  const files = Object.entries(htmlReportData(run.reportDir)).filter(([name]) => name !== 'report.json');
  const tests = files.flatMap(([, f]) => (f as { tests: { results: { steps: Step[] }[] }[] }).tests);
  const exchanges = tests
    .flatMap((t) => allSteps(t.results.flatMap((r) => r.steps)))
    .filter((s) => /^(GET|POST) \/v1\/rooms\//.test(s.title));
  // Inside each: Playwright's own step for the request, then the answer.
  for (const e of exchanges) expect(e.steps.at(-1)?.title, e.title).toMatch(/^\d{3} in \d+ ms$/);
  const outcomes = new Set(exchanges.map((e) => `${e.title.split(' ')[0]} ${e.steps.at(-1)?.title.slice(0, 3)}`));
  expect([...outcomes]).toEqual(expect.arrayContaining(['POST 201', 'POST 400', 'POST 401', 'GET 200', 'GET 404']));
  const stats: ReferenceApiStats = JSON.parse(run.read('reference-api-stats.json'));
  const sent = Object.entries(stats.byRoute)
    .filter(([route]) => route !== 'token')
    .reduce((sum, [, n]) => sum + n, 0);
  // The race round's warm-up reads (one connection each, opened before the round) are the proxy's own.
  expect(exchanges).toHaveLength(sent - RACE_ROUND_SIZE);
});

test("the suite's annotations read as sentences; their typed values travel as attachments", async ({
  defaultRun: { run },
}) => {
  const ours = run.tests.flatMap((t) => t.annotations).filter((a) => a.type.startsWith('qr-'));
  expect(ours.length).toBeGreaterThan(0);
  expect(ours.filter((a) => !/^[A-Z]/.test(a.description ?? ''))).toEqual([]);
  expect(run.annotations('qr-run').length).toBe(run.tests.length);
});

test('the HTML report carries the verdict in its metadata', async ({ defaultRun: { run } }) => {
  const report = htmlReportData(run.reportDir)['report.json'] as { metadata: Record<string, unknown> };
  expect(report.metadata['contract verdict']).toMatch(
    /^local: GO \(not a go-live GO\) \[.*\] · prelive: not configured, .* · production: not configured, /,
  );
  expect(report.metadata['contract evidence']).toMatchObject({ goLive: false, filter: 'none (every test)' });
});

test('a passing run leaves no secret in its reports, output folder or console', async ({
  defaultRun: { run, secretsLog },
}) => {
  const secrets = secretsFromLog(secretsLog);
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  const scan = scanRun(run, secrets);
  expect(scan.unreadable).toEqual([]);
  expect(
    scan.scanned.some((p) => p.includes('index.html!base64')),
    'the HTML report opened',
  ).toBe(true);
  expect(scan.hits).toEqual([]);
});

// Last: it replaces the GO run's files, as a user's next command would.
test('a --project typo after a GO run: exit 2, and nothing left that reads as the GO', async ({
  defaultRun: { run },
  runSuite,
}) => {
  const typo = await runSuite(['--project=locl'], { QR_OUTPUT_DIR: run.outputDir, QR_REPORT_DIR: run.reportDir });
  expect(typo.code, typo.tail()).toBe(2);
  expect(typo.stderr).toContain('--project=locl names no project; did you mean local?');
  expect(run.verdict).toMatchObject({ ok: false, ran: false, goLive: false, environments: [] });
  expect(run.summary).toMatch(/^## Verdict\n\n\*\*The run did not start\*\*/m);
  expect(run.summary).not.toMatch(/\bGO\*\*/);
  expect(fs.readdirSync(run.outputDir).filter((f) => /results\.json|junit\.xml/.test(f))).toEqual([]);
  expect(fs.readFileSync(path.join(run.reportDir, 'index.html'), 'utf8')).toContain('The run did not start');
  console.log(`--project=locl after a GO run: exit ${typo.code}\n${typo.stderr.trim()}`);
});
