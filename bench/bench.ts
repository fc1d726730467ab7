/**
 * What a run costs, against the embedded reference API: wall time (median of N runs, one at a
 * time), HTTP requests the API received and groups it created (global-setup writes
 * `<outputDir>/reference-api-stats.json`), and the groups in the run's ledger
 * (`<outputDir>/created-groups.json`). Playwright's own start-up (`--list`) and a trivial run (one
 * test) are measured for comparison. Runs use the project's own reporters, as a user's run does.
 * Not part of `npm test`.
 *
 *   npm run bench [-- --runs 5]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite } from '../selfcheck/harness';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const N = Math.max(1, Number(values.runs) || 5);

type Case = { name: string; args: string[]; api: boolean };
const cases: Case[] = [
  { name: 'playwright start-up (`--list`)', args: ['--project=local', '--list'], api: false },
  { name: 'trivial run (one test: `--project=local --grep @auth-missing`)', args: ['--project=local', '--grep', '@auth-missing'], api: true },
  { name: 'smoke (`--project=local --grep @smoke`)', args: ['--project=local', '--grep', '@smoke'], api: true },
  { name: 'full (`--project=local`)', args: ['--project=local'], api: true },
];

type Sample = { ms: number; code: number | null; requests?: number; byRoute?: Record<string, number>; created?: number; ledger?: number; passed?: number };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const readJson = (file: string) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined);
const same = (xs: (number | undefined)[]) => {
  const v = [...new Set(xs.map((x) => x ?? '?'))];
  return v.length === 1 ? String(v[0]) : `${v.join('/')} (varies)`;
};

async function main() {
  const results = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  // Interleaved, one run at a time, so that a noisy moment does not land on a single case.
  for (let i = 0; i < N; i++)
    for (const c of cases) {
      const run = await runSuite(`bench/${cases.indexOf(c)}-${i}`, c.args);
      const stats = readJson(path.join(run.outputDir, 'reference-api-stats.json'));
      const ledger = readJson(path.join(run.outputDir, 'created-groups.json')) as { status: string }[] | undefined;
      const sample: Sample = {
        ms: run.ms, code: run.code, requests: stats?.requests, byRoute: stats?.byRoute, created: stats?.groupsCreated,
        ledger: ledger?.filter((e) => e.status === 'created').length ?? (c.api ? 0 : undefined),
        passed: readJson(path.join(run.outputDir, 'results.json'))?.stats?.expected,
      };
      results.get(c)!.push(sample);
      process.stderr.write(`${c.name} #${i + 1}: ${(run.ms / 1000).toFixed(2)} s, exit ${run.code}\n`);
    }

  const rows = cases.map((c) => {
    const s = results.get(c)!;
    const ms = s.map((x) => x.ms);
    const failed = s.filter((x) => x.code !== 0).length;
    const routes = s[0].byRoute ? Object.entries(s[0].byRoute).map(([k, v]) => `${k} ${v}`).join(', ') : '-';
    return `| ${c.name} | ${(median(ms) / 1000).toFixed(2)} s | ${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)} s | ${
      c.api ? same(s.map((x) => x.requests)) : '-'} | ${c.api ? routes : '-'} | ${c.api ? same(s.map((x) => x.created)) : '-'} | ${c.api ? same(s.map((x) => x.ledger)) : '-'} | ${
      c.api ? same(s.map((x) => x.passed)) : '-'} | ${failed ? `${failed} of ${N} FAILED` : 'ok'} |`;
  });
  console.log(
    [
      `Benchmark: ${N} runs of each, one at a time, against the embedded reference API (QR_WORKERS=${process.env.QR_WORKERS ?? 'default'}).`,
      '',
      '| run | wall, median | min–max | API requests | by route (first run) | groups created (API) | groups in ledger | tests passed | exit |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
  process.exit(rows.some((r) => r.includes('FAILED')) ? 1 : 0);
}

void main();
