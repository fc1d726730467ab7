import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { suiteSettings } from '../../fixtures/config/settings';
import { faultNames, faults, variantNames } from '../../reference-api/faults';

/**
 * The fault matrix: the contract suite, as one Playwright run, against the embedded reference API
 * (one host, one instance per fault or variant, each with its own state):
 * - `faithful`: the reference itself; must pass;
 * - `variant:<name>`: a server that honours the documentation differently; must pass, whole;
 * - `fault:<name>`: the documented behaviour plus one deviation; a failing test must name the
 *   clause the fault breaks. Only the tests of that clause run: that is what "caught under its
 *   own clause" asks, and a fault project needs no more.
 * Each server is a `describe` of one project (selfcheck/matrix/multiply.ts): the servers share the workers.
 * The matrix reporter judges each server and writes selfcheck-results/fault-matrix.md.
 *   npm run selfcheck:faults                                   (every server)
 *   QR_MATRIX_ONLY=limits-in-bytes,slow npm run selfcheck:faults  (some)
 */
// The hang fault costs seconds, not 15 s per request. Nothing inherited chooses the API or excuses a fault.
process.env.QR_REQUEST_TIMEOUT_MS = '2000';
process.env.QR_KNOWN_DEVIATIONS = path.join(__dirname, 'no-known-deviations.json');
process.env.QR_OUTPUT_DIR = path.resolve(__dirname, '..', '..', 'selfcheck-results', 'matrix');
if (!process.env.TEST_WORKER_INDEX)
  for (const k of ['QR_REFERENCE_FAULT', 'QR_REFERENCE_VARIANT', 'LOCAL_API_BASE_URL']) delete process.env[k];
process.env.QR_RUN_ID ??= `m${Date.now().toString(36)}`;
process.env.QR_SEED ??= String(Date.now() % 2 ** 31);

const servers = [
  { name: 'faithful', reference: 'faithful' },
  ...variantNames.map((v) => ({ name: `variant:${v}`, reference: `variant/${v}` })),
  ...faultNames.map((f) => ({
    name: `fault:${f}`,
    reference: `fault/${f}`,
    role: 'fault' as const,
    clause: faults[f].clause,
  })),
];
const only = suiteSettings()
  .QR_MATRIX_ONLY?.split(',')
  .map((s) => s.trim());
process.env.QR_MATRIX_SERVERS = JSON.stringify(
  only ? servers.filter((s) => only.some((o) => s.name === o || s.name.endsWith(`:${o}`))) : servers,
);
process.env.QR_TEST_MULTIPLIER = path.join(__dirname, 'multiply.ts');

// biome-ignore lint/complexity/noBannedTypes: `{}` is how Playwright's types say "no test options of our own"
export default defineConfig<{}, { environment: 'local' }>({
  testDir: '../../tests',
  outputDir: process.env.QR_OUTPUT_DIR,
  fullyParallel: true,
  retries: 0,
  // Servers that answer slowly or rate-limit leave a worker waiting: more workers than cores fill the waits.
  workers: suiteSettings().QR_MATRIX_WORKERS,
  timeout: 30_000,
  globalSetup: '../../fixtures/harness/global-setup.ts',
  reporter: [[process.env.CI ? 'dot' : 'line'], ['./matrix-reporter.ts']],
  use: { trace: 'off' },
  projects: [{ name: 'matrix', use: { environment: 'local' } }],
});
