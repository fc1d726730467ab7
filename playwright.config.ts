import { randomInt } from 'node:crypto';
import { defineConfig, type Project } from '@playwright/test';
import dotenv from 'dotenv';
import { environments, explainProblems, readEnvironment, Workers, type EnvironmentName } from './fixtures/env';
import { DeviationFileError, readKnownDeviations, today } from './fixtures/deviations';

// Real environment variables win over .env. The self-tests turn it off (QR_DOTENV=off): their
// child runs must never pick up a developer's live credentials.
if (process.env.QR_DOTENV !== 'off') dotenv.config({ quiet: true });

// One run id and seed for the whole run, inherited by every worker.
// Time and 4 random base-36 characters: two pipelines starting in the same millisecond still differ.
process.env.QR_RUN_ID ??= `${Date.now().toString(36)}${randomInt(36 ** 4).toString(36).padStart(4, '0')}`;
process.env.QR_SEED ??= String(randomInt(1, 2 ** 31));

const outputDir = process.env.QR_OUTPUT_DIR ?? 'test-results';
const reportDir = process.env.QR_REPORT_DIR ?? 'playwright-report';
const requestTimeout = Number(process.env.QR_REQUEST_TIMEOUT_MS) || 15_000;

/** Projects named with --project on the command line (runner process only). */
function explicitlySelected(argv: string[]): string[] {
  const names: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === '--project' && argv[i + 1]) names.push(argv[i + 1]);
    else if (arg.startsWith('--project=')) names.push(arg.slice('--project='.length));
  });
  return names.flatMap((n) => n.split(','));
}

const workers = Workers.safeParse(process.env.QR_WORKERS || undefined);

// A remote environment asked for by name, but not configured: one message, before anything runs.
if (!process.env.TEST_WORKER_INDEX) {
  if (!workers.success) {
    console.error(`\nQR_WORKERS ${workers.error.issues[0].message}; it is ${JSON.stringify(process.env.QR_WORKERS)}.\n`);
    process.exit(2);
  }
  const asked = explicitlySelected(process.argv).map((n) => n.split(':')[0]);
  const problems = environments
    .filter((e) => e !== 'local' && asked.includes(e))
    .map((e) => [e, readEnvironment(e)] as const)
    .filter(([, r]) => !r.ok)
    .map(([e, r]) => explainProblems(e, r.ok ? [] : r.problems));
  if (problems.length) {
    console.error(`\n${problems.join('\n\n')}\n`);
    process.exit(2);
  }
  // Known deviations (known-deviations.json or QR_KNOWN_DEVIATIONS), validated once, before anything runs.
  try {
    today();
    readKnownDeviations();
  } catch (e) {
    if (!(e instanceof DeviationFileError)) throw e;
    console.error(`\n${e.message}\n`);
    process.exit(2);
  }
}

// Remote environments exchange their token once per run in a setup project; `local` has it done by
// global-setup, next to the reference API it starts (one worker process less per run).
const project = (environment: EnvironmentName): Project<{}, { environment: EnvironmentName }>[] =>
  environment === 'local'
    ? [{ name: environment, testMatch: /\.spec\.ts$/, use: { environment } }]
    : [
        { name: `${environment}:setup`, testMatch: /auth\.setup\.ts$/, use: { environment } },
        { name: environment, testMatch: /\.spec\.ts$/, dependencies: [`${environment}:setup`], use: { environment } },
      ];

export default defineConfig<{}, { environment: EnvironmentName }>({
  testDir: './tests',
  outputDir,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  // A retry would hide a contract failure. 429s are retried below the test, after Retry-After.
  retries: 0,
  workers: workers.success ? workers.data : 2,
  // A request gets requestTimeout; a test may wait out bounded 429 retries on top of two of them.
  timeout: 2 * requestTimeout + 25_000,
  globalSetup: './fixtures/global-setup.ts',
  reporter: [
    [process.env.CI ? 'dot' : 'list'],
    ['html', { open: 'never', outputFolder: reportDir }],
    ['junit', { outputFile: `${outputDir}/junit.xml` }],
    ['json', { outputFile: `${outputDir}/results.json` }],
    // CI shards: one blob per machine, merged by `npx playwright merge-reports -c playwright.config.ts`.
    ...(process.env.QR_BLOB === '1' ? [['blob'] as const] : []),
    // Last, so that its verdict (and the exit code it may turn to failed) is the final word.
    ['./fixtures/reporters/contract-summary.ts', { outputDir }],
  ],
  use: {
    // Safe to keep: no secret reaches Playwright (fixtures/auth-proxy.ts); the self-check scans traces.
    trace: 'retain-on-failure',
  },
  projects: environments.flatMap(project),
});
