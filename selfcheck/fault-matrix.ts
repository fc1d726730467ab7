/**
 * The suite's power to detect faults, proven on every `npm test`. The suite runs, as a user runs
 * it (`playwright test --project=local`, JSON reporter only), once against:
 *  - the plain reference API (the baseline): it must pass;
 *  - every fault of reference-api/faults.ts: it must fail, and a failing test must carry the tag
 *    of the clause the fault breaks;
 *  - every faithful variant: it must pass (exit 0, no unexpected test).
 * Each run is a process of its own with the fault chosen at start-up; runs share nothing.
 *
 *   npm run selfcheck:faults [-- --only name,name] [--concurrency N] [--workers N]
 * Writes selfcheck-results/fault-matrix.md (fault-matrix.only.md with --only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { faults, variants, type FaultName, type VariantName } from '../reference-api/faults';
import { pool, RESULTS, runSuite, type JsonTest, type SuiteRun } from './harness';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    // Measured on 2 cores: a run is CPU-bound (Playwright start-up, and a new worker process after
    // every failing test), so one worker per run and one run per core, plus one to fill the waits.
    concurrency: { type: 'string', default: process.env.QR_MATRIX_CONCURRENCY ?? String(os.availableParallelism() + 1) },
    workers: { type: 'string', default: process.env.QR_MATRIX_WORKERS ?? '1' },
  },
});
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((n) => !(n in faults) && !(n in variants) && n !== 'reference');
if (unknown?.length) {
  console.error(`--only: unknown fault or variant ${unknown.join(', ')}`);
  process.exit(2);
}
const wanted = (name: string) => !only || only.includes(name);

type Kind = 'baseline' | 'fault' | 'variant';
type Job = { kind: Kind; name: string; env: NodeJS.ProcessEnv; expected?: string };
type Row = Job & { ok: boolean; caughtBy: string[]; failing: JsonTest[]; ms: number; note: string };

const clauseTags = (tags: string[]) => tags.map((t) => t.replace(/^@/, '')).filter((t) => t !== 'smoke');
const firstLine = (t: JsonTest) => t.errors[0]?.split('\n').find((l) => l.trim())?.trim().slice(0, 160) ?? 'no error message';

function judge(job: Job, run: SuiteRun): Row {
  const failing = (run.report?.tests ?? []).filter((t) => t.status === 'unexpected' || t.status === 'flaky');
  const caughtBy = [...new Set(failing.flatMap((t) => clauseTags(t.tags)))];
  const row = { ...job, failing, caughtBy, ms: run.ms };
  if (!run.report) {
    const why = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(-3).join(' / ');
    return { ...row, ok: false, note: `no JSON report (exit ${run.code}): ${why}` };
  }
  if (job.kind !== 'fault') {
    const { expected, unexpected, flaky } = run.report.stats;
    const ok = run.code === 0 && unexpected === 0 && flaky === 0 && expected > 0;
    const note = ok ? '' : failing.length ? failing.map((t) => `${t.title}: ${firstLine(t)}`).join('; ') : `exit ${run.code}, ${expected} passed`;
    return { ...row, ok, note };
  }
  const ok = run.code !== 0 && failing.some((t) => clauseTags(t.tags).includes(job.expected!));
  const note = ok ? '' : run.code === 0 ? 'the suite passed' : `no failing test carries @${job.expected}`;
  return { ...row, ok, note };
}

// Runs that mostly wait (a hang, slow or rate-limited answers) go first, so they overlap with the
// CPU-bound ones instead of trailing at the end.
const WAITERS = new Set<string>(['create-hangs', 'slow', 'rate-limited']);

async function main() {
  const started = Date.now();
  const concurrency = Math.max(1, Number(values.concurrency) || 1);
  // No known deviation may excuse a fault: the children read an empty list, whatever the project's.
  const noDeviations = path.join(RESULTS, 'matrix', 'no-known-deviations.json');
  fs.mkdirSync(path.dirname(noDeviations), { recursive: true });
  fs.writeFileSync(noDeviations, '[]\n');
  // A short request timeout so that the hang fault costs seconds, not 15 s per request.
  // Nothing inherited chooses the API: each run starts its own reference API with its own fault.
  const env = {
    QR_REQUEST_TIMEOUT_MS: '2000', QR_WORKERS: values.workers, QR_KNOWN_DEVIATIONS: noDeviations,
  };
  // JSON only: no HTML report, no traces (the verdict needs neither).
  const args = ['--project=local', '--reporter=json', '--trace=off'];
  const jobs: Job[] = [
    ...(wanted('reference') ? [{ kind: 'baseline' as const, name: 'reference', env: {} }] : []),
    ...(Object.keys(faults) as FaultName[]).filter(wanted).map((f) => ({ kind: 'fault' as const, name: f, env: { QR_REFERENCE_FAULT: f }, expected: faults[f].clause })),
    ...(Object.keys(variants) as VariantName[]).filter(wanted).map((v) => ({ kind: 'variant' as const, name: v, env: { QR_REFERENCE_VARIANT: v } })),
  ];
  const order = [...jobs].sort((a, b) => Number(WAITERS.has(b.name)) - Number(WAITERS.has(a.name)));
  process.stderr.write(`fault matrix: ${jobs.length} suite runs, ${concurrency} at once, QR_WORKERS=${values.workers}\n`);

  const byName = new Map<Job, Row>();
  await pool(order, concurrency, async (job) => {
    const run = await runSuite(`matrix/${job.kind}-${job.name}`, args, { ...env, ...job.env });
    const row = judge(job, run);
    byName.set(job, row);
    process.stderr.write(`${row.ok ? '✓' : '✘'} ${job.kind} ${job.name} (${(row.ms / 1000).toFixed(1)} s)${row.note ? `: ${row.note}` : ''}\n`);
  });
  const rows = jobs.map((j) => byName.get(j)!);

  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const faultRows = rows.filter((r) => r.kind === 'fault');
  const passRows = rows.filter((r) => r.kind !== 'fault');
  const tables: string[] = [];
  if (faultRows.length)
    tables.push([
      '| fault | expected clause | caught by (clauses of the failing tests) | verdict |',
      '| --- | --- | --- | --- |',
      ...faultRows.map((r) => `| ${r.name} | ${r.expected} | ${r.caughtBy.join(', ') || '-'} | ${r.ok ? 'caught' : `NOT CAUGHT: ${cell(r.note)}`} |`),
    ].join('\n'));
  if (passRows.length)
    tables.push([
      '| variant | result | failing tests |',
      '| --- | --- | --- |',
      ...passRows.map((r) => `| ${r.kind === 'baseline' ? '(none: the plain reference API)' : r.name} | ${r.ok ? 'passed' : 'FAILED'} | ${r.ok ? '-' : cell(r.note)} |`),
    ].join('\n'));

  const variantRows = rows.filter((r) => r.kind === 'variant');
  const baseline = rows.find((r) => r.kind === 'baseline');
  const wall = (Date.now() - started) / 1000;
  const score = `faults caught ${faultRows.filter((r) => r.ok).length}/${faultRows.length}, faithful variants passed ${variantRows.filter((r) => r.ok).length}/${variantRows.length}`;
  const facts = [
    baseline ? `baseline (no fault): ${baseline.ok ? 'passed' : 'FAILED'}` : 'baseline (no fault): not run (--only)',
    `${rows.length} suite runs in ${wall.toFixed(1)} s (${concurrency} at once, QR_WORKERS=${values.workers})`,
  ];
  const good = rows.filter((r) => r.ok).length;
  const summary = `selfcheck: ${good} passed, ${rows.length - good} failed`;
  const text = `${tables.join('\n\n')}\n\n${facts.join('\n')}\n${score}\n${summary}\n`;
  fs.mkdirSync(RESULTS, { recursive: true });
  // A filtered (--only) run must not overwrite the full matrix.
  const file = path.join(RESULTS, only ? 'fault-matrix.only.md' : 'fault-matrix.md');
  fs.writeFileSync(file, `# Fault matrix${only ? ` (--only ${only.join(',')})` : ''}\n\n${text}`);
  process.stdout.write(`\n${text}`);
  process.exit(good === rows.length && rows.length > 0 ? 0 : 1);
}

void main();
