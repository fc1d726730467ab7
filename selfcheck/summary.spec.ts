/**
 * The contract summary (fixtures/reporters/contract-summary.ts): one row per clause per
 * environment, the groups created, the run id and seed, and a verdict that agrees with the exit
 * code: GO on a passing run, NO-GO and a failing exit code when a clause breaks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { clauseIds, clauses } from '../fixtures/clauses';
import { namedClause } from '../fixtures/reporters/contract-summary';
import { runSuite } from './harness';

/** Nothing of this run's own settings decides a child's output. */
const fresh = { CI: undefined };

const row = (summary: string, id: string) => summary.split('\n').find((l) => l.startsWith(`| \`${id}\` |`)) ?? '';
const cells = (line: string) => line.split(' | ').slice(2).map((c) => c.replace(/\s*\|$/, '').trim());

test('a passing run: every clause passed, the groups it created, run id and seed, GO, and exit code 0', async () => {
  const stepSummary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qr-summary-')), 'step-summary.md');
  fs.writeFileSync(stepSummary, '# earlier step\n');
  // No --project: the default command; the harness never passes live credentials (nor .env) on.
  const run = await runSuite('summary-pass', [], { ...fresh, GITHUB_STEP_SUMMARY: stepSummary });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const summary = fs.readFileSync(path.join(run.outputDir, 'contract-summary.md'), 'utf8');

  // One row per clause, with the catalog's title, and the result of the environment that ran.
  expect(summary).toContain('| clause | promise | local |');
  for (const id of clauseIds) {
    expect(row(summary, id), id).toContain(clauses[id].title);
    expect(cells(row(summary, id)), id).toEqual(['passed']);
  }
  // The run id and seed the run printed at its start.
  const [, runId, seed] = run.stderr.match(/Contract run (\w+), seed QR_SEED=(\d+)/) ?? [];
  expect(summary).toContain(`run \`${runId}\`, seed \`QR_SEED=${seed}\``);
  // The groups created: those of the ledger, with a pointer to it.
  const ledger = JSON.parse(fs.readFileSync(path.join(run.outputDir, 'created-groups.json'), 'utf8')) as { url: string; id: number }[];
  expect(ledger.length).toBeGreaterThan(0);
  expect(summary).toContain(`${ledger.length} group(s)`);
  expect(summary).toContain('created-groups.json`');
  for (const g of ledger) expect(summary).toContain(`| local | created | ${g.id} | ${g.url} |`);
  // Verdicts: GO where it ran, "not configured" (not GO) where it could not.
  expect(summary).toMatch(/^- local: \*\*GO\*\* \(31 passed, 0 failed/m);
  expect(summary).toMatch(/^- prelive: not configured: PRELIVE_CLIENT_ID is missing/m);
  expect(summary).toMatch(/^- production: not configured: PRODUCTION_CLIENT_ID is missing/m);
  expect(summary).not.toMatch(/^- (prelive|production): \*\*GO/m);
  expect(JSON.parse(fs.readFileSync(path.join(run.outputDir, 'contract-verdict.json'), 'utf8'))).toMatchObject({ ok: true, status: 'passed' });
  // Appended to the GitHub step summary, after what was there.
  expect(fs.readFileSync(stepSummary, 'utf8')).toBe(`# earlier step\n${summary}\n`);
  expect(run.stdout).toContain('local: GO');
});

test('a failing run: the broken clause says FAILED, the verdict NO-GO, and the exit code is not 0', async () => {
  const run = await runSuite('summary-fail', ['--project=local'], { ...fresh, QR_REFERENCE_FAULT: 'public-ignored' });
  expect(run.code, run.stdout + run.stderr).not.toBe(0);
  const summary = fs.readFileSync(path.join(run.outputDir, 'contract-summary.md'), 'utf8');
  expect(cells(row(summary, 'create-echo'))).toEqual(['**FAILED**']);
  // Only the clause the failure names: the other clauses of the run still passed.
  for (const id of clauseIds.filter((c) => c !== 'create-echo')) expect(cells(row(summary, id)), id).toEqual(['passed']);
  expect(summary).toMatch(/^- local: \*\*NO-GO\*\* .*1 test\(s\) failed \(create-echo\)/m);
  expect(summary).toMatch(/^## Failures\n\n- local · create-group\.spec\.ts › the other value of each flag is kept too \[create-echo\]: ContractViolation: \[create-echo\]/m);
  expect(JSON.parse(fs.readFileSync(path.join(run.outputDir, 'contract-verdict.json'), 'utf8'))).toMatchObject({ ok: false, status: 'failed' });
  expect(run.stdout).toContain('local: NO-GO');
});

test('a failure is attributed to the clause its message names', () => {
  expect(namedClause('ContractViolation: [create-echo] The created group ...\nReceived: ...')).toBe('create-echo');
  expect(namedClause('[read-by-url] Read after write')).toBe('read-by-url');
  expect(namedClause('\u001b[31mContractViolation: [auth-missing] x\u001b[39m')).toBe('auth-missing');
  expect(namedClause('Error: [not-a-clause] x')).toBeUndefined();
  expect(namedClause('Test timeout of 55000ms exceeded.')).toBeUndefined();
});
