import { defineConfig } from '@playwright/test';

/**
 * The create-group design card read literally, as one would write it in an afternoon: the plain
 * `request` fixture, the credentials as extra headers, no proxy, no ledger. `npm run bench`
 * measures the contract suite against it.
 */
export default defineConfig({
  testDir: '.',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    // Ends with "/" so that relative paths keep the /quran-reflect path.
    baseURL: `${process.env.PRELIVE_API_BASE_URL}/`,
    extraHTTPHeaders: {
      'x-auth-token': process.env.PRELIVE_ACCESS_TOKEN ?? '',
      'x-client-id': process.env.PRELIVE_CLIENT_ID ?? '',
    },
    trace: 'on-first-retry',
  },
});
