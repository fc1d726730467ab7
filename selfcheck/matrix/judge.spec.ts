/**
 * The fault matrix's judgement (matrix-reporter.ts) as a pure function: a fault is caught only by
 * a typed violation (`qr-violation`) that names the clause it breaks. A test tagged with that clause
 * which crashes or times out names no clause, and catches nothing.
 */

import type { TestRecord } from '../../fixtures/reporting/verdict';
import { faultNames, faults } from '../../reference-api/faults';
import { expect, test } from '../fixtures';
import { judgeProject } from './matrix-reporter';

const name = faultNames[0];
const clause = faults[name].clause;
const other = faultNames.map((f) => faults[f].clause).find((c) => c !== clause)!;
const record = (o: Partial<TestRecord>): TestRecord => ({
  environment: 'matrix',
  where: 'matrix · x.spec.ts › a test',
  title: 'a test',
  clauses: [clause],
  status: 'failed',
  expectedToFail: true,
  violations: [],
  excused: [],
  message: '',
  ...o,
});
const judged = (...records: TestRecord[]) => judgeProject(`fault:${name}`, records);

test('a fault is caught by a violation naming its clause', () => {
  expect(judged(record({ violations: [clause] }))).toMatchObject({ ok: true, caughtBy: [clause] });
});

test('a crash or a timeout of a test tagged with the clause catches nothing', () => {
  for (const status of ['failed', 'timedOut'] as const)
    expect(judged(record({ status, message: 'TypeError: x is undefined' }))).toMatchObject({
      ok: false,
      caughtBy: [],
      note: `failing tests name no clause, not ${clause}`,
    });
});

test('a violation of another clause, or an environment failure, does not catch the fault', () => {
  expect(judged(record({ violations: [other] }))).toMatchObject({ ok: false, caughtBy: [other] });
  expect(
    judged(record({ violations: [clause], environmentFailure: { kind: 'unreachable', reason: 'not reachable' } })),
  ).toMatchObject({ ok: false });
});
