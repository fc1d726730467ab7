import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { DeviationFileError, readKnownDeviations, today } from './fixtures/config/deviations';
import {
  askedProjects,
  defaultSuiteSettings,
  type EnvironmentName,
  environments,
  explainProblems,
  fixRunIdentity,
  inWorker,
  loadDotenv,
  OptInInFileError,
  onCI,
  productionWritesNotice,
  projectMayRun,
  readSettings,
  SettingsError,
  suggest,
} from './fixtures/config/settings';
import { LEDGER_FILE } from './fixtures/contract/ledger-format';
import type { SummaryOptions } from './fixtures/reporting/contract-summary';
import { recordDidNotRun } from './fixtures/reporting/did-not-run';

// Real environment variables win over .env (or QR_ENV_FILE's file), which can never opt in to production writes. Self-tests turn it off:
// their child runs must never pick up a developer's live credentials.
try {
  loadDotenv();
} catch (e) {
  // A SettingsError: QR_ENV_FILE names no file.
  if (!(e instanceof OptInInFileError || e instanceof SettingsError)) throw e;
  console.error(e.message);
  process.exit(2);
}

// One run id and seed for the whole run, inherited by every worker.
fixRunIdentity();

const isRunner = !inWorker();
const merging = process.argv.includes('merge-reports');
// The suite's own variables, then each environment on its own: one environment's broken variables (or stored login)
// keep only that environment from running, unless it was asked for by name.
const read = readSettings();
const problems = [...read.suiteProblems];
const suite = read.suite ?? defaultSuiteSettings();
const status = (e: EnvironmentName) => read.environments[e];
const asked = askedProjects();
/** Whether --project names an environment, as Playwright matches them: case-insensitive, `*` a wildcard. */
const named = (pattern: string, e: string) =>
  pattern.includes('*')
    ? new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(e)
    : pattern.toLowerCase() === e;
/** Named outright, not through a pattern. */
const askedFor = (e: EnvironmentName) => asked.some((p) => !p.includes('*') && named(p, e));

/** Environments that run: local always (its API is embedded), the others once configured. */
const running = environments.filter((e) => e === 'local' || status(e).status === 'ok');
const notConfigured = Object.fromEntries(
  environments.flatMap((e) => {
    const s = status(e);
    return e !== 'local' && s.status === 'not-configured' ? [[e, s.reason]] : [];
  }),
);
/** Environments whose variables are broken, in a run not asking for them by name: NOT TESTED, the others run. */
const misconfigured: Record<string, string> = {};

if (isRunner && !merging) {
  try {
    today();
    readKnownDeviations();
  } catch (e) {
    if (e instanceof DeviationFileError) problems.push(e.message);
    else if (!(e instanceof SettingsError)) throw e;
  }
  for (const e of environments) {
    const s = status(e);
    if (s.status === 'misconfigured') {
      if (askedFor(e)) problems.push(...s.problems);
      else if (!asked.length || asked.some((p) => named(p, e))) misconfigured[e] = s.problems.join('; ');
    }
    // Told even when another variable is wrong: "not configured" depends on nothing else.
    if (e !== 'local' && s.status === 'not-configured' && askedFor(e))
      problems.push(
        `--project=${e} was asked for, but ${e} is not configured: set ${e.toUpperCase()}_CLIENT_ID and its credentials`,
      );
  }
  // A --project Playwright would refuse: refused here, with the names it could have meant, before anything runs.
  for (const p of asked)
    if (p.includes('*') ? !running.some((e) => named(p, e)) : !environments.some((e) => named(p, e)))
      problems.push(
        p.includes('*')
          ? `--project=${p} matches no project that can run (projects: ${running.join(', ')})`
          : `--project=${p} names no project${suggest(p, environments)}`,
      );
  if (problems.length) {
    // The run is refused anyway: every problem in one message, those of environments it did not name too.
    for (const e of environments) {
      const s = status(e);
      if (s.status === 'misconfigured' && !askedFor(e)) problems.push(...s.problems);
    }
    console.error(`\n${explainProblems(problems)}\n`);
    recordDidNotRun({ outputDir: suite.QR_OUTPUT_DIR, reportDir: suite.QR_REPORT_DIR, why: problems, exitCode: 2 });
    console.error('The run did not start: contract-summary.md and contract-verdict.json say so (exit code 2).');
    process.exit(2);
  }
}

if (isRunner && !merging && !asked.length)
  for (const [e, reason] of Object.entries(notConfigured))
    console.log(`${e}: not configured, not run (${reason}; see .env.example)`);
for (const [e, why] of Object.entries(misconfigured))
  if (isRunner && !merging) console.error(`${e}: NOT TESTED (setup: variables): ${why}`);

const outputDir = suite.QR_OUTPUT_DIR;

// A run that may write to production says so before its first test (and its summary counts what it made).
const production = status('production');
if (isRunner && !merging && !process.argv.includes('--list') && projectMayRun('production'))
  if (production.status === 'ok' && production.env.allowWrites) {
    // Loaded only here: the group plans bring the test data along.
    const { availableGroups } = require('./fixtures/harness/groups') as typeof import('./fixtures/harness/groups');
    const ledger = path.relative(process.cwd(), path.resolve(outputDir, LEDGER_FILE));
    console.log(productionWritesNotice(availableGroups(production.env).length, ledger));
  }
const summary: SummaryOptions = { outputDir, reportDir: suite.QR_REPORT_DIR, notConfigured, misconfigured };

// biome-ignore lint/complexity/noBannedTypes: `{}` is how Playwright's types say "no test options of our own"
export default defineConfig<{}, { environment: EnvironmentName }>({
  testDir: './tests',
  outputDir,
  fullyParallel: true,
  forbidOnly: onCI(),
  // A retry would hide a contract failure. 429s are retried below the test, after Retry-After.
  retries: 0,
  workers: suite.QR_WORKERS,
  // A request gets its timeout; a test may wait out bounded 429 retries on top of two of them.
  timeout: 2 * suite.QR_REQUEST_TIMEOUT_MS + 25_000,
  globalSetup: './fixtures/harness/global-setup.ts',
  reporter: [
    [onCI() ? 'dot' : 'list'],
    // Before the HTML report, which then shows the verdict; the exit code it may turn to failed holds.
    ['./fixtures/reporting/contract-summary.ts', summary],
    ['html', { open: 'never', outputFolder: suite.QR_REPORT_DIR }],
    ['junit', { outputFile: `${outputDir}/junit.xml` }],
    ['json', { outputFile: `${outputDir}/results.json` }],
    // CI shards: one blob per machine, merged by `npx playwright merge-reports -c playwright.config.ts`.
    ...(suite.QR_BLOB ? [['blob'] as const] : []),
  ],
  use: {
    // Off unless asked for: a failed test already carries every exchange (redacted) and a step per request, and
    // tracing costs a good part of a run (docs/self-check.md). Safe to keep: no secret reaches Playwright (fixtures/harness/proxy/forwarder.ts);
    // the self-check scans a kept trace.
    trace: suite.QR_TRACE,
  },
  projects: running.map((environment) => ({ name: environment, testMatch: /\.spec\.ts$/, use: { environment } })),
});
