/**
 * The verdict (fixtures/reporting/verdict.ts) as the pure function it is: typed records of tests
 * and a few facts about the run in, cells per clause and a verdict per environment out. No child
 * run: each scenario is a handful of records.
 */

import type { KnownDeviation } from '../fixtures/config/deviations';
import { type ClauseId, clauseIds } from '../fixtures/contract/clauses';
import { verdictLine } from '../fixtures/reporting/render';
import { judge, type RunFacts, type TestRecord } from '../fixtures/reporting/verdict';
import { expect, test } from './fixtures';

const DAY = '2026-06-01';
const facts = (o: Partial<RunFacts> = {}): RunFacts => ({
  notConfigured: {},
  deviations: [],
  day: DAY,
  runProblems: [],
  status: 'passed',
  ...o,
});

let n = 0;
function record(clause: ClauseId, o: Partial<TestRecord> = {}): TestRecord {
  const title = `test ${++n} of ${clause}`;
  return {
    environment: 'local',
    where: `local · x.spec.ts › ${title}`,
    title,
    clauses: [clause],
    status: 'passed',
    expectedToFail: false,
    violations: [],
    excused: [],
    message: '',
    ...o,
  };
}
const failed = (clause: ClauseId, o: Partial<TestRecord> = {}) =>
  record(clause, { status: 'failed', violations: [clause], message: `ContractViolation: [${clause}] ...`, ...o });
const dependant = (clause: ClauseId, on: string) =>
  record(clause, { status: 'skipped', dependsOn: { test: on, reason: 'its create answered 400' } });

const deviation: KnownDeviation = {
  clause: 'create-echo',
  environment: 'local',
  reason: 'the reference API swaps the flags (self-test)',
  link: 'https://github.com/example/issues/1',
  reviewBy: '2026-12-31',
};
const excused = (o: Partial<TestRecord> = {}) =>
  record('create-echo', { expectedToFail: true, excused: ['create-echo'], ...o });

test('a failed check makes its clause FAILED and the environment NO-GO; the other clauses keep their result', () => {
  const { environments, status } = judge([record('create-201'), failed('create-echo')], facts());
  const [local] = environments;
  expect(local.cells).toEqual({ 'create-201': 'passed', 'create-echo': 'FAILED' });
  expect(verdictLine(local)).toBe('local: NO-GO, 1 test(s) failed (create-echo)');
  expect(status).toBe('failed');
});

test("the clause to blame is the check's typed annotation, not the wording of its message", () => {
  const misleading = failed('rejected-no-side-effect', {
    clauses: ['create-echo', 'rejected-no-side-effect'],
    message: '[create-echo] ...',
  });
  const [local] = judge([misleading], facts()).environments;
  expect(local.cells).toEqual({ 'rejected-no-side-effect': 'FAILED' });
});

test('an environment failure fails one test and blames no clause', () => {
  const reason = 'not reachable (ECONNREFUSED for http://127.0.0.1:9): check LOCAL_API_BASE_URL';
  const first = record('create-201', { status: 'failed', environmentFailure: { kind: 'unreachable', reason } });
  const { environments, failures } = judge([first, dependant('create-echo', first.title)], facts({ status: 'failed' }));
  expect(Object.values(environments[0].cells)).not.toContain('FAILED');
  expect(verdictLine(environments[0])).toMatch(
    /^local: NOT TESTED \(setup: not reachable\), not reachable \(ECONNREFUSED for http:\/\/127\.0\.0\.1:9\)/,
  );
  expect(failures.map((f) => f.clauses)).toEqual([[]]);
});

test('tests skipped because what they need failed are "not verified", never FAILED', () => {
  const create = failed('limits-max-accepted');
  const records = [create, dependant('create-echo', create.title), dependant('read-by-url', create.title)];
  const [local] = judge(records, facts()).environments;
  expect(local.cells).toEqual({
    'limits-max-accepted': 'FAILED',
    'create-echo': 'not verified',
    'read-by-url': 'not verified',
  });
  expect(local.counts).toMatchObject({ failed: 1, notVerified: 2 });
  expect(local.reasons).toContain('2 test(s) not verified: they depend on the failure above');
});

test('a GO names the clauses whose every test was skipped by choice (production without writes)', () => {
  const records = [record('auth-missing'), record('create-201', { status: 'skipped' })];
  const [production] = judge(
    records.map((r) => ({ ...r, environment: 'production' })),
    facts(),
  ).environments;
  expect(verdictLine(production)).toBe(
    'production: GO (not a go-live GO), but 1 clause(s) not verified (see why below): create-201',
  );
});

test('a known deviation whose test fails as expected keeps the environment GO', () => {
  const { environments, expectedFailures } = judge(
    [excused({ status: 'failed', violations: ['create-echo'] })],
    facts({ deviations: [deviation] }),
  );
  expect(environments[0]).toMatchObject({ verdict: 'GO', cells: { 'create-echo': 'expected-fail (known deviation)' } });
  expect(expectedFailures.map((f) => f.clauses)).toEqual([['create-echo']]);
});

test('a known deviation whose test passes fails the run: the environment is fixed, the entry must go', () => {
  const { environments, failures } = judge([excused()], facts({ deviations: [deviation], status: 'failed' }));
  expect(environments[0]).toMatchObject({ verdict: 'NO-GO', cells: { 'create-echo': 'FAILED' } });
  expect(failures[0].message).toContain('the environment seems fixed, remove the entry from known-deviations.json');
});

test('an expired known deviation fails the run, naming itself, though every test passes', () => {
  const [local] = judge([record('create-echo')], facts({ deviations: [deviation], day: '2027-01-01' })).environments;
  expect(verdictLine(local)).toBe('local: NO-GO, known deviation expired: create-echo (review by 2026-12-31)');
});

test('a test excused for one clause that fails for another is FAILED for that other one', () => {
  const other = excused({ status: 'failed', clauses: ['create-echo', 'read-by-id'], violations: ['read-by-id'] });
  const [local] = judge([other], facts({ deviations: [deviation] })).environments;
  expect(local.cells).toEqual({ 'read-by-id': 'FAILED' });
  expect(local.verdict).toBe('NO-GO');
});

test('a test excused for one clause that breaks two others is FAILED for both', () => {
  const clauses: ClauseId[] = ['create-echo', 'read-by-id', 'read-by-url'];
  const two = excused({ status: 'failed', clauses, violations: ['read-by-id', 'read-by-url'] });
  const [local] = judge([two], facts({ deviations: [deviation] })).environments;
  expect([local.cells['read-by-id'], local.cells['read-by-url']]).toEqual(['FAILED', 'FAILED']);
});

test('an environment that is not configured is named with its reason, never GO', () => {
  const why = 'PRELIVE_CLIENT_ID and its credentials are not set';
  const { environments } = judge([record('create-201')], facts({ notConfigured: { prelive: why } }));
  expect(environments.map(verdictLine)).toEqual(['local: GO (not a go-live GO)', `prelive: not configured, ${why}`]);
});

test('an error outside the tests turns a run whose tests passed into a NO-GO', () => {
  const problem = '1 error(s) outside the tests: Error: the global teardown threw';
  const { environments, status } = judge([record('create-201')], facts({ runProblems: [problem], status: 'failed' }));
  expect(verdictLine(environments[0])).toBe(`local: NO-GO, ${problem}`);
  expect(status).toBe('failed');
});

test('a test whose cases break two clauses makes both FAILED, each named by its own check', () => {
  const both = failed('validation-types', {
    clauses: ['validation-types', 'rejected-no-side-effect'],
    violations: ['validation-types', 'rejected-no-side-effect'],
  });
  const [local] = judge([both], facts()).environments;
  const cells = local.cells;
  expect([cells['validation-types'], cells['rejected-no-side-effect']]).toEqual(['FAILED', 'FAILED']);
});

test('a refused token, a wrong base URL, a refused proxy: NOT TESTED naming the cause, no clause FAILED, the run fails', () => {
  for (const [kind, cause] of [
    ['token', 'token refused'],
    ['base-url', 'wrong base URL'],
    ['proxy', 'egress proxy'],
    ['not-answering', 'not answering'],
  ] as const) {
    const first = record('create-201', {
      status: 'failed',
      environmentFailure: { kind, reason: `the ${kind} (fix it)` },
    });
    const { environments, status, failures } = judge([first, dependant('create-echo', first.title)], facts());
    expect(verdictLine(environments[0])).toMatch(new RegExp(`^local: NOT TESTED \\(setup: ${cause}\\), the ${kind}`));
    expect(Object.values(environments[0].cells)).not.toContain('FAILED');
    expect(failures).toHaveLength(1);
    expect(status).toBe('failed');
  }
});

test('a contract failure beside a setup failure is a NO-GO: the API broke a promise before the run stopped', () => {
  const down = record('read-by-id', { status: 'failed', environmentFailure: { kind: 'unreachable', reason: 'x' } });
  const [local] = judge([failed('create-echo'), down], facts()).environments;
  expect(local.verdict).toBe('NO-GO');
});

test('a known deviation does not excuse a timeout, a crash, or another clause of its test', () => {
  for (const r of [
    excused({ status: 'timedOut', violations: [], message: 'Test timeout of 55000ms exceeded.' }),
    excused({ status: 'timedOut', violations: ['create-echo'] }),
    excused({
      status: 'failed',
      violations: [],
      message: "TypeError: Cannot read properties of undefined (reading 'id')",
    }),
  ]) {
    const { environments, failures, status } = judge([r], facts({ deviations: [deviation] }));
    expect(environments[0]).toMatchObject({ verdict: 'NO-GO', cells: { 'create-echo': 'FAILED' } });
    expect(failures[0].message).toContain('which no known deviation excuses');
    expect(status).toBe('failed');
  }
});

test('every NO-GO names a failure the summary lists', () => {
  const cases: [TestRecord[], Partial<RunFacts>][] = [
    [[failed('create-echo')], {}],
    [[record('create-201')], { runProblems: ['1 error(s) outside the tests: boom'] }],
    [[record('create-201')], { status: 'failed' }],
    [[record('create-echo')], { deviations: [deviation], day: '2027-01-01' }],
    [[record('create-201', { status: 'interrupted' })], { status: 'interrupted' }],
  ];
  for (const [records, o] of cases) {
    const { environments, failures } = judge(records, facts(o));
    expect(environments[0].verdict).toBe('NO-GO');
    expect(failures.length).toBeGreaterThan(0);
  }
});

test('a go-live GO: every clause verified against the documented origin; a rehearsal or a partial GO is not one', () => {
  const all = clauseIds.map((c) => record(c, { environment: 'prelive' }));
  const documented = {
    origin: 'https://apis-prelive.quran.foundation/quran-reflect',
    kind: 'documented origin',
    documented: true,
  };
  const rehearsal = { origin: 'http://127.0.0.1:4010/quran-reflect', kind: 'rehearsal', documented: false };
  const go = (target: typeof documented, records = all, requireGoLive = false) =>
    judge(records, facts({ targets: { prelive: target }, requireGoLive }));
  expect(go(documented).environments[0]).toMatchObject({ verdict: 'GO', goLive: true });
  expect(verdictLine(go(documented).environments[0])).toMatch(/^prelive: GO \(go-live GO\) \[https:\/\/apis-prelive/);
  expect(go(rehearsal).environments[0]).toMatchObject({ verdict: 'GO', goLive: false });
  expect(go(documented, all.slice(1)).environments[0].goLive).toBe(false);
  expect(go(rehearsal).status).toBe('passed');
  expect(go(rehearsal, all, true).status).toBe('failed');
  expect(go(documented, all, true).status).toBe('passed');
  const smoke = judge(all.slice(0, 3), facts({ targets: { prelive: documented }, filter: '--grep /@smoke/' }));
  expect(verdictLine(smoke.environments[0])).toMatch(
    /^prelive: GO \(go-live GO: 3 of \d+ clauses, selected by --grep \/@smoke\/\)/,
  );
});

test('each reason for clauses not verified is told once, with the clauses it covers', () => {
  const why = 'creates a group: production writes are off (set PRODUCTION_ALLOW_WRITES=true to opt in)';
  const absent = 'production is read-only: no group of this run shows the read route works';
  const records = [
    record('create-201', { status: 'skipped', skipReason: why }),
    record('create-echo', { status: 'skipped', skipReason: why }),
    record('auth-missing', {
      clauses: ['auth-missing', 'rejected-no-side-effect'],
      unverified: [{ clause: 'rejected-no-side-effect', reason: absent }],
    }),
  ].map((r) => ({ ...r, environment: 'production' }));
  const [production] = judge(records, facts()).environments;
  expect(production.notVerified).toEqual([
    { reason: why, clauses: ['create-201', 'create-echo'] },
    { reason: absent, clauses: ['rejected-no-side-effect'] },
  ]);
  expect(production.cells).toMatchObject({ 'auth-missing': 'passed', 'rejected-no-side-effect': 'not verified' });
  expect(production.unverified).toContain('rejected-no-side-effect');
});

test('an environment none of whose tests ran is NOT TESTED, never GO', () => {
  const [local] = judge([record('create-201', { status: 'skipped', skipReason: 'x' })], facts()).environments;
  expect(verdictLine(local)).toMatch(/^local: NOT TESTED \(setup: no test ran\), every test was skipped/);
});

test("one environment's broken variables in a run of several: it is NOT TESTED, the others keep their verdict", () => {
  const why = 'PRELIVE_API_BASE_URL is not an http(s) URL (it is "apis-prelive")';
  const { environments, failures, status } = judge([record('create-201')], facts({ notTested: { prelive: why } }));
  expect(environments.map(verdictLine)).toEqual([
    'local: GO (not a go-live GO)',
    `prelive: NOT TESTED (setup: variables), ${why}. Fix them in the environment or in .env (docs/configuration.md)`,
  ]);
  expect(failures.map((f) => f.environment)).toEqual(['prelive']);
  expect(status).toBe('failed');
});
