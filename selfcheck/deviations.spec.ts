/**
 * Known deviations (known-deviations.json, fixtures/deviations.ts): a deviation for a clause that
 * does fail turns its tests into expected failures and the run passes; one whose clause passes
 * fails the run (the environment was fixed: remove the entry); an expired one fails the run and
 * names itself; an invalid file stops the run before anything runs. Each run is limited to the
 * create-echo tests (@create-echo, two tests) to stay fast.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { KnownDeviations, readKnownDeviations, DEFAULT_DEVIATIONS_FILE } from '../fixtures/deviations';
import { ROOT, runSuite } from './harness';

/** Nothing of this run's own settings decides a child's verdict. */
const fresh = { CI: undefined, QR_TODAY: undefined };
const echo = ['--project=local', '--grep', '@create-echo'];

const deviation = { clause: 'create-echo', environment: 'local', reason: 'the reference API swaps public and hideFollowJoinButton (self-test)', link: 'https://github.com/example/issues/1', reviewBy: '2026-12-31' };
function file(list: unknown): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qr-deviations-')), 'known-deviations.json');
  fs.writeFileSync(f, JSON.stringify(list, null, 2));
  return f;
}
const summaryOf = (outputDir: string) => fs.readFileSync(path.join(outputDir, 'contract-summary.md'), 'utf8');
const echoRow = (summary: string) => summary.split('\n').find((l) => l.startsWith('| `create-echo` |')) ?? '';

test('a deviation for a clause that does fail: its tests are expected failures, listed, and the run passes (GO)', async () => {
  const run = await runSuite('deviation-honoured', echo, { ...fresh, QR_KNOWN_DEVIATIONS: file([deviation]), QR_TODAY: '2026-12-31', QR_REFERENCE_FAULT: 'booleans-swapped' });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const tests = run.report!.tests;
  expect(tests).toHaveLength(2);
  for (const t of tests) {
    expect(t.status, t.title).toBe('expected');
    expect(t.errors.join('\n'), t.title).toContain('[create-echo]');
    expect(t.annotations.find((a) => a.type === 'known-deviation')?.description).toContain('create-echo in local: the reference API swaps');
  }
  const summary = summaryOf(run.outputDir);
  expect(echoRow(summary)).toContain('| expected-fail (known deviation) |');
  expect(summary).toContain('review by 2026-12-31: honoured');
  expect(summary).toMatch(/Expected failures \(known deviations\):\n\n- local · create-group\.spec\.ts › the group is what was asked for \[create-echo\]/);
  expect(summary).toMatch(/^- local: \*\*GO\*\* \(0 passed, 0 failed, 2 expected to fail/m);
});

test('a deviation whose clause passes fails the run: the environment is fixed, the entry must go', async () => {
  const run = await runSuite('deviation-fixed', echo, { ...fresh, QR_KNOWN_DEVIATIONS: file([deviation]), QR_TODAY: '2026-06-01' });
  expect(run.code, run.stdout + run.stderr).not.toBe(0);
  expect(run.report!.tests.map((t) => t.status)).toEqual(['unexpected', 'unexpected']);
  const summary = summaryOf(run.outputDir);
  expect(echoRow(summary)).toContain('| **FAILED** |');
  expect(summary).toContain('a known deviation expects it to fail (create-echo): the environment seems fixed, remove the entry from known-deviations.json');
  expect(summary).toMatch(/^- local: \*\*NO-GO\*\*/m);
});

test('an expired deviation fails the run with a message naming it, though every test passes', async () => {
  const run = await runSuite('deviation-expired', echo, { ...fresh, QR_KNOWN_DEVIATIONS: file([deviation]), QR_TODAY: '2027-01-01' });
  expect(run.code, run.stdout + run.stderr).not.toBe(0);
  // Not honoured any more: the tests run as usual (and pass against the faithful reference).
  expect(run.report!.tests.map((t) => t.status)).toEqual(['expected', 'expected']);
  expect(run.report!.stats.unexpected).toBe(0);
  expect(run.stderr).toContain(`Known deviation expired: create-echo in local: ${deviation.reason} (${deviation.link}), review by 2026-12-31. Today is 2027-01-01`);
  const summary = summaryOf(run.outputDir);
  expect(summary).toContain('review by 2026-12-31: **EXPIRED** (today is 2027-01-01)');
  expect(summary).toMatch(/^- local: \*\*NO-GO\*\* .*known deviation expired: create-echo \(review by 2026-12-31\)/m);
  expect(JSON.parse(fs.readFileSync(path.join(run.outputDir, 'contract-verdict.json'), 'utf8')).ok).toBe(false);
});

test('an invalid deviations file stops the run at start-up, every problem listed', async () => {
  const bad = file([{ ...deviation, clause: 'create-everything', reviewBy: '31/12/2026' }, { ...deviation, link: 'see the wiki' }]);
  const run = await runSuite('deviation-invalid', echo, { ...fresh, QR_KNOWN_DEVIATIONS: bad });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`${bad} is not a valid list of known deviations:`);
  expect(run.stderr).toContain('entry 0.clause: is not a clause id of fixtures/clauses.ts (got "create-everything")');
  expect(run.stderr).toContain('entry 0.reviewBy: must be a date YYYY-MM-DD');
  expect(run.stderr).toContain('entry 1.link: must be an http(s) URL');
  expect(run.report).toBeUndefined();
});

test('one entry per clause and environment', () => {
  const twice = KnownDeviations.safeParse([deviation, { ...deviation, reason: 'the same clause and environment again' }]);
  expect(twice.success).toBe(false);
  expect(twice.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['1: duplicates entry 0 (create-echo in local)']);
  expect(KnownDeviations.safeParse([deviation, { ...deviation, environment: 'prelive' }]).success).toBe(true);
});

test('the checked-in file and the documented example are valid', () => {
  expect(readKnownDeviations(DEFAULT_DEVIATIONS_FILE)).toEqual([]);
  const docs = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const example = docs.match(/```json\n(\[[\s\S]*?\])\n```/)?.[1];
  expect(example, 'a ```json example in the README').toBeTruthy();
  expect(KnownDeviations.parse(JSON.parse(example!))).toHaveLength(1);
});
