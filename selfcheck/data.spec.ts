/**
 * Test data never collides on URLs, whatever the run looks like: many worker restarts (every
 * failed test starts a new worker, so worker indexes grow), repeats of one test with one seed.
 */
import { expect, test } from '@playwright/test';
import { TestData, URL_PREFIX } from '../fixtures/data';
import { LIMITS } from '../fixtures/schemas';

const RUN_ID = 'mx0abcdefghi'; // as long as the config's: 8 characters of time, 4 random

test('urls are unique by construction and fit, also after hundreds of worker restarts and for repeats of one seed', () => {
  const urls: string[] = [];
  for (const worker of [0, 1, 35, 999, 46_655]) {
    // The same seed for every instance: a repeated test (--repeat-each) gets the same texts.
    for (let test = 0; test < 50; test++) urls.push(new TestData(42, RUN_ID, `w${worker.toString(36)}`).validBody().url);
  }
  urls.push(new TestData(42, RUN_ID, 'p').url(LIMITS.url), new TestData(42, RUN_ID, 's').url());
  expect(new Set(urls).size).toBe(urls.length);
  for (const url of urls) {
    expect(url.startsWith(`${URL_PREFIX}${RUN_ID}-`)).toBe(true);
    expect(url).toMatch(/^[a-z0-9-]+$/);
    expect(url.length).toBeLessThanOrEqual(LIMITS.url);
  }
});
