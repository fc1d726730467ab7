/**
 * Test data never collides on URLs, whatever the run looks like (worker restarts, repeats of one
 * seed), and the run's groups (fixtures/harness/groups.ts) are made once however many workers ask at once:
 * each "worker" here is a `runGroups` of its own over one run folder, as worker processes have.
 */
import type { TestInfo } from '@playwright/test';
import { firstAnnotation } from '../fixtures/contract/annotations';
import { ContractViolation } from '../fixtures/contract/checks';
import { fitsEveryCount, NAME_PREFIX, TestData, URL_PREFIX } from '../fixtures/contract/data';
import type { Exchange } from '../fixtures/contract/exchange';
import { LIMITS } from '../fixtures/contract/schemas';
import { firstDifference, isolate } from '../fixtures/contract/text';
import type { RoomsApi } from '../fixtures/harness/api';
import { CaseNotRun } from '../fixtures/harness/cases';
import { type GroupContext, type GroupKey, runGroups } from '../fixtures/harness/groups';
import { RACE_ROUND_SIZE } from '../fixtures/harness/race-round';
import { RunState } from '../fixtures/harness/run';
import { environmentFor, expect, test } from './fixtures';

const RUN_ID = 'mx0abcdefghi'; // as long as the config's: 8 characters of time, 4 random

test('typed texts fit their limits in every unit (UTF-16, code points, graphemes) with the "#n" of the concurrent creates, marks after the prefix', () => {
  // One expect over every seed: an expect is a reported step with a captured stack, thousands of them cost seconds.
  const problems: string[] = [];
  const check = (ok: boolean, what: string, text: string) => ok || problems.push(`${what}: ${JSON.stringify(text)}`);
  for (let seed = 0; seed < 300; seed++) {
    const data = new TestData(seed, RUN_ID, 't');
    const name = `${data.typedName()} #${RACE_ROUND_SIZE}`;
    const description = data.typedDescription();
    check(fitsEveryCount(name, LIMITS.name), `seed ${seed}: name over its limit`, name);
    check(fitsEveryCount(description, LIMITS.description), `seed ${seed}: description over its limit`, description);
    check(name.startsWith(`${NAME_PREFIX}\u200F`), `seed ${seed}: name without the mark after the prefix`, name);
    // A ligature NFKC would expand, in both; the marks and the non-joiner in the description.
    for (const text of [name, description])
      check(text.normalize('NFKC') !== text.normalize('NFC'), `seed ${seed}: nothing NFKC expands`, text);
    for (const mark of ['\u200F', '\u200E', '\u061C', '\u200C', '\uFDF2', '\uFDFA'])
      check(description.includes(mark), `seed ${seed}: no U+${mark.codePointAt(0)?.toString(16)}`, description);
  }
  expect(problems).toEqual([]);
});

test('a text mismatch names the code points that differ, and right-to-left text is isolated where it is shown', () => {
  expect(firstDifference('QA \u200Fقل', 'QA قل')).toBe(
    'first difference at code point 4 (sent 6, got 5 code points, NFC): sent U+200F RIGHT-TO-LEFT MARK, U+0642 "\u2068ق\u2069", U+0644 "\u2068ل\u2069"; got U+0642 "\u2068ق\u2069", U+0644 "\u2068ل\u2069"',
  );
  expect(firstDifference('e\u0301', '\u00e9')).toBeUndefined();
  expect(firstDifference('\uFDF2', '\uFDF2'.normalize('NFKC'))).toContain('U+FDF2 ARABIC LIGATURE ALLAH');
  expect(isolate('Latin only')).toBe('Latin only');
  expect(isolate('سورة')).toBe('\u2068سورة\u2069');
});

test('urls are unique by construction and fit, after hundreds of worker restarts and for repeats of one seed', () => {
  const urls: string[] = [];
  // The same seed for every instance: a repeated test (--repeat-each) gets the same texts.
  for (const worker of [0, 1, 35, 999, 46_655])
    for (let n = 0; n < 50; n++) urls.push(new TestData(42, RUN_ID, `w${worker.toString(36)}`).validBody().url);
  urls.push(new TestData(42, RUN_ID, 'l').url(LIMITS.url), new TestData(42, RUN_ID, 'm').url());
  expect(new Set(urls).size).toBe(urls.length);
  const misfits = urls.filter(
    (url) => !url.startsWith(`${URL_PREFIX}${RUN_ID}-`) || !/^[a-z0-9-]+$/.test(url) || url.length > LIMITS.url,
  );
  expect(misfits).toEqual([]);
});

class Skipped extends Error {}

/** Four workers of one run and an API that answers every create with `status`, counting them. */
function run(status: 201 | 400) {
  const dir = test.info().outputPath('run');
  let creates = 0;
  const answer = async (sent: Record<string, unknown>): Promise<Exchange> => {
    creates++;
    const room = { id: creates, ...sent, isPublic: false, hideFollowJoinButton: false };
    const json = status === 201 ? { success: true, data: room } : { message: 'Bad Request' };
    return {
      method: 'POST',
      url: 'x',
      auth: 'valid',
      sent,
      status,
      contentType: 'application/json',
      text: JSON.stringify(json),
      json,
      retries: 0,
      ms: 1,
    };
  };
  const worker = (title: string) => {
    const info = {
      title,
      testId: `id-${title}`,
      repeatEachIndex: 0,
      timeout: 10_000,
      expectedStatus: 'passed',
      annotations: [] as { type: string; description?: string }[],
      attachments: [] as { name: string; contentType: string; body?: Buffer }[],
      skip: (skip: boolean, reason: string) => {
        if (skip) throw new Skipped(reason);
      },
    };
    const ctx: GroupContext = {
      api: { create: answer } as unknown as RoomsApi,
      env: environmentFor('prelive'),
      seed: 1,
      runId: RUN_ID,
      info: info as unknown as TestInfo,
    };
    const groups = runGroups(new RunState(dir, 'prelive'));
    return { info, ask: (key: GroupKey) => groups(key, ctx) };
  };
  return { worker, creates: () => creates };
}

test("the run's groups are made once, whatever the workers asking at the same moment", async () => {
  const { worker, creates } = run(201);
  const workers = ['w0', 'w1', 'w2', 'w3'].map(worker);
  const groups = await Promise.all(workers.map((w) => w.ask('minimal')));
  expect(creates()).toBe(1);
  expect(new Set(groups.map((g) => g.room.id))).toEqual(new Set([1]));
  // A worker started later (after another's failed test) reads it from the run's folder.
  expect((await worker('w4').ask('minimal')).room.id).toBe(1);
  expect(creates()).toBe(1);
});

test('a failed create is shared: its sender fails, the others skip naming it, nobody sends it again', async () => {
  const { worker, creates } = run(400);
  const workers = ['w0', 'w1', 'w2', 'w3', 'w4'].map(worker);
  const outcomes = await Promise.allSettled(workers.slice(0, 4).map((w) => w.ask('minimal')));
  const later = await workers[4].ask('minimal').catch((e: unknown) => e);
  expect(creates()).toBe(1);
  const errors = [...outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value)), later];
  expect(errors.filter((e) => e instanceof ContractViolation).map((e) => e.clause)).toEqual([
    'create-optional-omitted',
  ]);
  const skips = errors.filter((e) => e instanceof Skipped).map((e) => e.message);
  expect(skips).toHaveLength(4);
  for (const s of skips)
    expect(s).toMatch(/^Not run: depends on .*, whose create failed in "w\d": \[create-optional-omitted\]/);
  const dependsOn = workers.flatMap((w) => firstAnnotation(w.info, 'qr-depends-on') ?? []);
  expect(dependsOn.map((d) => d.clause)).toEqual(Array(4).fill('create-optional-omitted'));
});

test("a later case of the test whose create failed is not run: that failure is the test's story", async () => {
  const { worker, creates } = run(400);
  const w0 = worker('w0');
  const first = await w0.ask('minimal').catch((e: unknown) => e);
  const again = await w0.ask('minimal').catch((e: unknown) => e);
  expect(first).toBeInstanceOf(ContractViolation);
  expect(again).toBeInstanceOf(CaseNotRun);
  expect((again as CaseNotRun).reason).toMatch(/^depends on .*, whose create failed in an earlier case$/);
  expect(creates()).toBe(1);
});
