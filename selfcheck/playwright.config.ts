import { defineConfig } from '@playwright/test';

/**
 * The project's own tests: pure parts of the suite directly, the rest by running the contract suite
 * as child processes (against reference APIs and their faults) and checking what it did: reports,
 * ledger, secrets, exit codes. The run is bound by CPU (each child starts Playwright processes):
 * one worker more than the 2 cores fills the time children spend waiting on a silent API. Files, not
 * tests, are spread over the workers: each worker loads only its files, and the whole takes less CPU
 * than with every test free to go to any worker (docs/self-check.md).
 */
export default defineConfig({
  testDir: '.',
  testMatch: /\.spec\.ts$/,
  outputDir: '../selfcheck-results/self-tests',
  fullyParallel: false,
  workers: 3,
  retries: 0,
  // The first test reading a shared child run waits for it; a child is killed after 90 s.
  timeout: 120_000,
  forbidOnly: !!process.env.CI,
  reporter: [[process.env.CI ? 'dot' : 'list']],
});
