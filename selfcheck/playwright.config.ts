import { defineConfig } from '@playwright/test';

/**
 * The project's own tests: they run the contract suite (as child processes, against the reference
 * API and its faults) and check what it did: reports, ledger, secrets, exit codes.
 */
export default defineConfig({
  testDir: '.',
  testMatch: /\.spec\.ts$/,
  outputDir: '../selfcheck-results/self-tests',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  timeout: 180_000,
  forbidOnly: !!process.env.CI,
  reporter: [[process.env.CI ? 'dot' : 'list']],
});
