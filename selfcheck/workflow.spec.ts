/**
 * The CI workflow keeps its promises (docs/tokens-and-ci.md): triggers, a current Node LTS, concurrency
 * per ref that never cancels a running job, the project's self-check, production writes only in the
 * reviewed `production-writes` environment, untested environments never shown as a GO, one machine per
 * environment with sharding as an option, merged reports and ledgers kept, no browser install, only
 * the secrets the suite knows, and no expression pasted into a shell script.
 * The plan and verdict scripts are run with bash for the scenarios that matter.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { environments, environmentVariables } from '../fixtures/config/settings';
import { expect, tempDir, test } from './fixtures';

const root = path.join(__dirname, '..');
const text = fs.readFileSync(path.join(root, '.github', 'workflows', 'contract.yml'), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: the workflow's YAML, read key by key by the tests
type Yaml = any;
const workflow = parse(text) as { on: Yaml; permissions: unknown; jobs: Record<string, Job> };
type Step = {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Yaml;
};
type Job = {
  name?: string;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  steps: Step[];
} & Record<string, Yaml>;
const jobs = workflow.jobs;
const steps = (job: string) => jobs[job].steps;
const runs = (job: string) =>
  steps(job)
    .map((s) => String(s.run ?? ''))
    .join('\n');
const stepWith = (job: string, needle: string) => steps(job).find((s) => String(s.run ?? '').includes(needle))!;
const uploads = (job: string) => steps(job).filter((s) => String(s.uses).startsWith('actions/upload-artifact'));
const code = text
  .split('\n')
  .filter((l) => !l.trim().startsWith('#'))
  .join('\n');
const hasBash = spawnSync('bash', ['-c', 'command -v jq'], { stdio: 'ignore' }).status === 0;

/** Runs one step's script with bash, as a runner would: its env, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. */
function runStep(step: Step, env: Record<string, string>, cwd = tempDir('workflow')) {
  const output = path.join(cwd, 'github-output');
  const summary = path.join(cwd, 'step-summary');
  for (const f of [output, summary]) fs.writeFileSync(f, '');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', String(step.run)], {
    cwd,
    env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
    encoding: 'utf8',
  });
  const lines = fs.readFileSync(output, 'utf8').split('\n').filter(Boolean);
  const outputs = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { code: r.status, stdout: r.stdout, outputs, summary: fs.readFileSync(summary, 'utf8') };
}

const plan = (env: Record<string, string>) => {
  const r = runStep(steps('plan')[0], { HAS_PRELIVE: 'true', HAS_PRODUCTION: 'true', ...env });
  expect(r.code, r.stdout).toBe(0);
  const untested: string[] = JSON.parse(r.outputs.untested);
  return { include: JSON.parse(r.outputs.include), untested, writes: r.outputs.writes };
};

test('triggers: push to main, pull requests, a schedule, a dispatch with environment, grep, shards, writes', () => {
  const on = workflow.on;
  expect(Object.keys(on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch']);
  expect(on.push.branches).toEqual(['main']);
  expect(on.schedule[0].cron).toMatch(/^(\S+\s+){4}\S+$/);
  const inputs = on.workflow_dispatch.inputs;
  expect(inputs.environment.options).toEqual(expect.arrayContaining(['prelive', 'production']));
  expect(inputs.grep.type).toBe('string');
  expect(inputs.shards).toMatchObject({ default: '1' });
  expect(inputs.allow_production_writes).toMatchObject({ type: 'boolean', default: false });
  expect(workflow.permissions).toEqual({ contents: 'read' });
});

test('every job that runs Node sets up a current LTS (22 or 24), and engines keeps Node 20.19+ (require of ES modules: oauth4webapi) and names it', () => {
  const engines: string = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
  expect(engines).toMatch(/\^20\.19\.0/);
  for (const [name, job] of Object.entries(jobs)) {
    if (!/\b(npm|npx|node)\b/.test(job.steps.map((s) => s.run ?? '').join('\n'))) continue;
    const setup = job.steps.find((s) => String(s.uses).startsWith('actions/setup-node'));
    expect(setup, `${name} sets up Node`).toBeDefined();
    const major = String(setup!.with['node-version']);
    expect(['22', '24'], `${name}: Node ${major}`).toContain(major);
    expect(engines, `engines covers the Node of ${name}`).toContain(`^${major}`);
  }
});

test("concurrency: groups carry the ref (no run cancels another branch's), nothing running is cancelled", () => {
  expect((workflow as Yaml).concurrency).toBeUndefined();
  const grouped = Object.entries(jobs).filter(([, j]) => j.concurrency);
  expect(grouped.map(([n]) => n)).toEqual(expect.arrayContaining(['selfcheck', 'contract', 'production-writes']));
  for (const [name, job] of grouped) {
    expect(job.concurrency.group, name).toMatch(/github\.(ref|head_ref)\b/);
    expect(job.concurrency['cancel-in-progress'], name).toBe(false);
  }
  expect(jobs.contract.concurrency.group).toContain('matrix.environment');
  expect(jobs.contract.concurrency.group).toContain('matrix.shard');
});

test('the self-check runs npm ci && npm test on pull requests and pushes to main, without secrets', () => {
  const job = jobs.selfcheck;
  expect(job.if).toContain("github.event_name == 'pull_request'");
  expect(job.if).toContain("github.event_name == 'push'");
  const commands = job.steps.map((s) => s.run).filter(Boolean);
  expect(commands.findIndex((c) => /^npm ci\b/.test(c!))).toBeLessThan(commands.indexOf('npm test'));
  expect(commands).toContain('npm test');
  expect(JSON.stringify(job)).not.toContain('secrets.');
  // The contract jobs do not run on pushes: their plan is skipped there.
  expect(jobs.plan.if).toBe("github.event_name != 'push'");
});

test('production writes: only in the production-writes environment, on a dispatch with the input, reviewed', () => {
  const writing = Object.entries(jobs).filter(([, j]) => JSON.stringify(j).includes('PRODUCTION_ALLOW_WRITES'));
  expect(writing.map(([n]) => n)).toEqual(['production-writes']);
  expect(code.match(/PRODUCTION_ALLOW_WRITES:/g)).toHaveLength(1);
  const job = jobs['production-writes'];
  const envName = typeof job.environment === 'string' ? job.environment : job.environment?.name;
  expect(envName).toBe('production-writes');
  expect(Object.values(jobs).filter((j) => j.environment)).toHaveLength(1);
  expect(job.if).toContain("github.event_name == 'workflow_dispatch'");
  expect(job.if).toContain('inputs.allow_production_writes');
  const suite = job.steps.findIndex((s) => String(s.run ?? '').includes('npx playwright test'));
  expect(job.steps[suite].env!.PRODUCTION_ALLOW_WRITES).toBe('true');
  expect(job.steps[suite].run).toContain('--project=production');
  // The environment must have required reviewers: GitHub creates a missing one unprotected.
  const check = job.steps.findIndex((s) => String(s.run ?? '').includes('required_reviewers'));
  expect(check).toBeGreaterThanOrEqual(0);
  expect(check).toBeLessThan(suite);
  expect(job.permissions).toEqual({ contents: 'read', actions: 'read' });
  const header = text
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .join('\n');
  expect(header).toMatch(/production-writes[\s\S]*Required reviewers/i);
  // With the checkbox, production leaves the read-only matrix for this job; without it, production is read-only.
  test.skip(!hasBash, 'bash and jq are needed to run the plan');
  const both = { EVENT: 'workflow_dispatch', INPUT_ENVIRONMENT: 'both', INPUT_SHARDS: '1' };
  const withWrites = plan({ ...both, INPUT_WRITES: 'true' });
  expect(withWrites).toMatchObject({ writes: 'true', include: [{ environment: 'prelive' }] });
  expect(plan({ ...both, INPUT_WRITES: 'false' }).writes).toBe('false');
  expect(plan({ EVENT: 'schedule' }).writes).toBe('false');
});

test('an environment that cannot be tested (a fork) says so in its job name and summary, never a GO', () => {
  const configure = steps('contract').find((s) => s.id === 'configure')!;
  const suite = stepWith('contract', 'npx playwright test');
  expect(jobs.contract.name).toBe('${{ matrix.label }}');
  expect(suite.if).toBe("steps.configure.outputs.configured == 'true'");
  test.skip(!hasBash, 'bash and jq are needed to run the scripts');
  const fork = plan({ EVENT: 'pull_request', IS_FORK: 'true', HAS_PRELIVE: 'false', HAS_PRODUCTION: 'false' });
  expect(fork.include.map((i: { label: string }) => i.label)).toEqual([
    'prelive: not configured (fork without secrets), nothing tested',
    'production: not configured (fork without secrets), nothing tested',
  ]);
  expect(fork.untested).toContain('prelive: not configured (fork without secrets): nothing was tested');

  const unset = { ENVIRONMENT: 'prelive', SHARD: '1', GITHUB_ENV: '/dev/null' };
  const job = runStep(configure, { ...unset, EVENT: 'pull_request', IS_FORK: 'true' });
  expect(job.code).toBe(0);
  expect(job.outputs.configured).toBe('false');
  expect(job.summary).toContain('prelive: not configured (fork without secrets): nothing was tested');
  // Elsewhere (schedule, dispatch) an unconfigured environment fails its job.
  expect(runStep(configure, { ...unset, EVENT: 'schedule' }).code).not.toBe(0);

  // The run's verdict lists it as untested and shows no GO.
  const verdict = steps('report').find((s) => s.name === 'Verdict')!;
  const results = { CONTRACT: 'success', WRITES: 'skipped', UNTESTED: JSON.stringify(fork.untested) };
  const report = runStep(verdict, { ...results, EVENT: 'pull_request' });
  expect(report.summary).toContain('- prelive: not configured (fork without secrets): nothing was tested');
  expect(report.summary).toContain('there is no GO');
  expect(report.summary).not.toMatch(/: GO\b/);
  const scheduled = runStep(verdict, { ...results, CONTRACT: 'failure', EVENT: 'schedule' });
  expect(scheduled.code).not.toBe(0);
});

test('one machine per environment by default; the shards input makes a matrix of shards, each with its blob', () => {
  expect(jobs.contract.strategy.matrix.include).toBe('${{ fromJSON(needs.plan.outputs.include) }}');
  expect(jobs.contract.strategy['fail-fast']).toBe(false);
  // An empty matrix is an error in GitHub: the job is skipped instead.
  expect(jobs.contract.if).toBe("needs.plan.outputs.include != '[]'");
  const suite = stepWith('contract', 'npx playwright test');
  expect(suite.run).toContain('--shard="$SHARD/$SHARDS"');
  expect(suite.run).toContain('--project="$ENVIRONMENT"');
  expect(suite.env).toMatchObject({ SHARD: '${{ matrix.shard }}', SHARDS: '${{ matrix.shards }}', QR_BLOB: '1' });
  expect(suite.env!.PLAYWRIGHT_BLOB_OUTPUT_NAME).toContain('${{ matrix.shard }}');
  // A refresh token only: shards after the first refuse to spend what the first spends.
  expect(runs('contract')).toMatch(/REFRESH_TOKEN" \|\| true\)" \] && \[ "\$SHARD" != 1 \]/);
  test.skip(!hasBash, 'bash and jq are needed to run the plan');
  const scheduled = plan({ EVENT: 'schedule' });
  expect(scheduled.include).toEqual([
    { environment: 'prelive', shard: 1, shards: 1, label: 'prelive' },
    { environment: 'production', shard: 1, shards: 1, label: 'production' },
  ]);
  const sharded = plan({ EVENT: 'workflow_dispatch', INPUT_ENVIRONMENT: 'prelive', INPUT_SHARDS: '3' });
  expect(sharded.include.map((i: { label: string }) => i.label)).toEqual(['prelive 1/3', 'prelive 2/3', 'prelive 3/3']);
});

test('reports: blobs and ledgers uploaded always, merged by merge-reports; a job that did not finish is no GO', () => {
  for (const job of ['contract', 'production-writes']) {
    const uploaded = uploads(job);
    expect(uploaded.map((s) => String(s.with.path)).join('\n')).toContain('blob-report');
    for (const f of ['contract-summary.md', 'junit.xml', 'created-groups.json', 'created-groups.jsonl'])
      expect(uploaded.map((s) => String(s.with.path)).join('\n'), `${job}: ${f}`).toContain(f);
    for (const s of uploaded) expect(String(s.if), `${job}: ${s.name}`).toContain('always()');
  }
  const report = jobs.report;
  expect(report.needs).toEqual(expect.arrayContaining(['plan', 'contract', 'production-writes']));
  expect(report.if).toContain('always()');
  expect(runs('report')).toMatch(/npx playwright merge-reports -c playwright\.config\.ts \S+/);
  const downloads = steps('report').filter((s) => String(s.uses).startsWith('actions/download-artifact'));
  expect(downloads.map((s) => s.with.pattern)).toEqual(expect.arrayContaining(['blob-*', 'shard-*']));
  const merged = uploads('report')
    .map((s) => String(s.with.path))
    .join('\n');
  for (const f of ['playwright-report', 'junit.xml', 'contract-summary.md', 'created-groups.json'])
    expect(merged).toContain(f);
  const verdict = steps('report').find((s) => s.name === 'Verdict')!;
  expect(verdict.if).toContain('always()');
  expect(verdict.env).toMatchObject({
    CONTRACT: '${{ needs.contract.result }}',
    WRITES: '${{ needs.production-writes.result }}',
  });
  test.skip(!hasBash, 'bash and jq are needed to run the verdict');
  const cancelled = runStep(verdict, { CONTRACT: 'cancelled', WRITES: 'skipped', UNTESTED: '[]', EVENT: 'schedule' });
  expect(cancelled.code).not.toBe(0);
  expect(cancelled.summary).toMatch(/no GO/);
});

test('no browser install, every secret a variable the suite reads, no expression pasted into a script', () => {
  expect(code.split('\n').filter((l) => /playwright\s+install|install-deps/i.test(l))).toEqual([]);
  const secrets = [...code.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]);
  const live = environments.filter((e) => e !== 'local');
  const known = live.flatMap((e) => Object.keys(environmentVariables).map((k) => `${e.toUpperCase()}_${k}`));
  expect([...new Set(secrets)].filter((s) => !known.includes(s))).toEqual([]);
  // Every variable of both live environments can be given.
  expect(known.filter((k) => !secrets.includes(k))).toEqual([]);
  // Values reach scripts through env:, never as ${{ }} inside `run` (script injection).
  const expression = /\$\{\{\s*([^}]+?)\s*\}\}/g;
  const expressions = (job: string) => [...runs(job).matchAll(expression)].map((m) => `${job}: ${m[1]}`);
  const pasted = Object.keys(jobs).flatMap(expressions);
  expect(pasted).toEqual([]);
});
