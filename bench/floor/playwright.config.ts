import { defineConfig } from '@playwright/test';

/**
 * Playwright's own floor for a run the size of the suite's full run: as many trivial tests and requests
 * (reads through the plain request fixture), the suite's workers, trace setting and Playwright
 * reporters, none of its fixtures. `npm run bench -- --floor` runs it beside the others.
 */
export default defineConfig({
  testDir: '.',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [
    ['list'],
    ['html', { open: 'never' }],
    ['junit', { outputFile: 'test-results/junit.xml' }],
    ['json', { outputFile: 'test-results/results.json' }],
  ],
  use: {
    baseURL: `${process.env.PRELIVE_API_BASE_URL}/`,
    extraHTTPHeaders: {
      'x-auth-token': process.env.PRELIVE_ACCESS_TOKEN ?? '',
      'x-client-id': process.env.PRELIVE_CLIENT_ID ?? '',
    },
    trace: 'off',
  },
});
