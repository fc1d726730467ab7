/**
 * Test data never collides on URLs, whatever the run looks like: many worker restarts (every
 * failed test starts a new worker, so worker indexes grow), repeats of one test with one seed;
 * and the run's shared groups are made once, however many workers ask at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { TestData, URL_PREFIX } from '../fixtures/data';
import { runGroups, type CreatedGroup } from '../fixtures/run-groups';
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

test('the run groups are made once per run, whatever the workers: one claims, the others wait for it, failures are shared', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-run-groups-'));
  // Four workers (each its own runGroups, as each worker process has), asking in the same tick:
  // each claims or starts waiting before the first create can answer.
  const workers = [1, 2, 3, 4].map(() => runGroups(dir));
  let creates = 0;
  const make = async (): Promise<CreatedGroup> => {
    creates++;
    return { sent: { name: 'n', url: `u${creates}` }, exchange: { status: 201 } as CreatedGroup['exchange'], madeBy: 'first' };
  };
  const options = { title: 't', waitMs: 5_000, skip: (reason: string): never => { throw new Error(`skip: ${reason}`); } };
  const groups = await Promise.all(workers.map((ask) => ask('primary', make, options)));
  expect(creates).toBe(1);
  expect(new Set(groups.map((g) => g.sent.url))).toEqual(new Set(['u1']));
  // A worker started later (after a failure) reads it from disk.
  expect((await runGroups(dir)('primary', make, options)).sent.url).toBe('u1');
  expect(creates).toBe(1);

  // A create that did not complete: the waiting workers skip, naming it, and nobody creates again.
  const failing = async (): Promise<CreatedGroup> => { creates++; throw new Error('boom'); };
  const outcomes = await Promise.allSettled(workers.map((ask) => ask('secondary', failing, options)));
  expect(creates).toBe(2);
  const reasons = outcomes.map((o) => (o.status === 'rejected' ? String(o.reason.message) : 'fulfilled'));
  expect(reasons.filter((r) => r === 'boom')).toHaveLength(1);
  expect(reasons.filter((r) => r.startsWith('skip: Not run: the create of the run\'s secondary group did not complete (boom)'))).toHaveLength(3);
});
